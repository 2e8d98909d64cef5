"""carelens on Posit Connect: the dashboard (/) and REST API (/api) as one ASGI app.

Connect runs ``app`` (``rsconnect deploy manifest build/posit-connect/manifest.json``; the bundle
is made by ``make manifest``, see docs/deploy.md). Settings come from the content's environment
variables set in Connect (``CARELENS_DATABASE_URL``, ``CARELENS_API_KEY_HASHES``, ...).
"""

from carelens.web.app import create_app

app = create_app()
