"""factory_boy factories shared by every app's tests."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import Membership, Organization
from candidates.models import Application, Candidate
from roles.models import InterviewPlan, PipelineStage, Role

TEST_PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.test")
    email = factory.LazyAttribute(lambda u: u.username)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.RECRUITER


class InterviewPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InterviewPlan

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Plan {n}")


class PipelineStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PipelineStage

    organization = factory.SelfAttribute("plan.organization")
    plan = factory.SubFactory(InterviewPlanFactory)
    title = factory.Sequence(lambda n: f"Stage {n}")
    order = factory.Sequence(lambda n: n)
    stage_type = PipelineStage.StageType.ACTIVE


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Role {n}")
    department = "Engineering"
    location = "Remote"
    status = Role.Status.OPEN


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Candidate {n}")
    email_addresses = factory.LazyAttribute(
        lambda c: [
            {
                "value": f"{c.name.lower().replace(' ', '.')}@example.test",
                "type": "Personal",
                "is_primary": True,
            }
        ]
    )


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    organization = factory.SubFactory(OrganizationFactory)
    candidate = factory.SubFactory(
        CandidateFactory, organization=factory.SelfAttribute("..organization")
    )
    role = factory.SubFactory(RoleFactory, organization=factory.SelfAttribute("..organization"))
    status = Application.Status.ACTIVE
