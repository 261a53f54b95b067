# Production image: gunicorn web, Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEBUG=0
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei gettext nodejs npm curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY package.json ./
RUN npm install --no-audit --no-fund --loglevel=error
COPY . .
RUN mkdir -p static/vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.js node_modules/html5-qrcode/html5-qrcode.min.js static/vendor/ \
    && SECRET_KEY=build python manage.py compilemessages -v0 --ignore=node_modules \
    && SECRET_KEY=build python manage.py collectstatic --noinput -v0
RUN useradd --system --home /app qms && mkdir -p /data/media /data/anchors && chown -R qms /app /data
USER qms
ENV MEDIA_ROOT=/data/media
EXPOSE 8000
CMD ["gunicorn", "qms.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
