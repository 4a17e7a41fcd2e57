# CarbonScope: the site, the analysis worker and the scheduler from one image.
#   docker build -t carbonscope .
#   docker run -p 8000:8000 carbonscope serve --host 0.0.0.0
# Stage 1 builds the browser libraries from npm (no CDN at run time); stage 2 installs the package
# with its web, PostgreSQL and analysis extras; stage 3 is the runtime, as a non-root user.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/carbonscope/web/frontend
COPY carbonscope/web/frontend/package.json carbonscope/web/frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/carbonscope
ENV PATH=/opt/carbonscope/bin:$PATH
COPY pyproject.toml README.md ./
COPY carbonscope ./carbonscope
COPY --from=frontend /src/carbonscope/web/frontend/node_modules ./carbonscope/web/frontend/node_modules
RUN python carbonscope/web/assets.py \
 && rm -rf carbonscope/web/frontend/node_modules \
 && pip install --no-cache-dir ".[web,postgres,analyst,baseline]"

FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 carbonscope \
 && mkdir -p /data && chown carbonscope /data
COPY --from=build /opt/carbonscope /opt/carbonscope
ENV PATH=/opt/carbonscope/bin:$PATH \
    CARBONSCOPE_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
USER carbonscope
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["carbonscope"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
