# Production image: runs against an external PostgreSQL / Supabase given by DATABASE_URL.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY services ./services
COPY integrations ./integrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# PYTHONPATH puts /app first, so the code finds migrations/ and supabase/ beside it.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FOXEO_ENV=production PYTHONPATH=/app
RUN useradd --system --uid 10001 foxeo
WORKDIR /app
COPY --from=build /install /usr/local
# Migrations and the Supabase bootstrap are read at start-up (applied under an advisory lock).
COPY migrations ./migrations
COPY supabase ./supabase
COPY api ./api
COPY services ./services
COPY integrations ./integrations
USER foxeo
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status == 200 else 1)"
CMD ["foxeo", "serve", "--host", "0.0.0.0", "--port", "8000"]
