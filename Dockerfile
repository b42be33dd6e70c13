# Image for the web server, Celery worker, Celery beat and Flower (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 lavalier
WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that a code change reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Editable, so that settings.BASE_DIR is /app, where templates/ and static/ are.
RUN pip install --no-deps -e . \
    && mkdir -p /app/var/media /app/var/staticfiles \
    && chown -R lavalier:lavalier /app/var

USER lavalier
EXPOSE 8000
CMD ["gunicorn", "lavalier.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
