# carelens in a container: the same install from the lock as docs/install.md (which CI runs), then
# `carelens serve`. Not built by this project's CI (no container engine there): see docs/deploy.md.
#   docker build -t carelens:0.1.0 .
#   docker run -d -p 127.0.0.1:8000:8000 -v carelens-data:/var/lib/carelens carelens:0.1.0
FROM python:3.11-slim-bookworm

# Pango, for PDF board reports (WeasyPrint)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpangoft2-1.0-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/carelens carelens

WORKDIR /opt/carelens
COPY requirements/runtime.txt requirements/runtime.txt
RUN python -m venv /opt/carelens/venv \
 && /opt/carelens/venv/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY src/ src/
RUN /opt/carelens/venv/bin/pip install --no-cache-dir --no-deps . \
 && /opt/carelens/venv/bin/pip check

USER carelens
ENV CARELENS_HOME=/var/lib/carelens PATH=/opt/carelens/venv/bin:$PATH
VOLUME /var/lib/carelens
EXPOSE 8000
# behind a proxy at a path prefix, add: --root-path /carelens
CMD ["carelens", "serve", "--host", "0.0.0.0", "--port", "8000"]
