"""Settings, URLs and view of the benchmark's baseline: an empty Django view.

The same settings and middleware as blingsync, but `POST /webhooks/bling/` answers the same
tiny JSON at once, without a signature check or a database write. Served by gunicorn with
`DJANGO_SETTINGS_MODULE=bench.webhooks_empty_app` and `blingsync.wsgi:application`, so the
difference between the two runs is exactly what the receiver does.
"""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from blingsync.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhooks_empty_app"


@csrf_exempt
def empty_view(request):
    request.read()
    return JsonResponse({"status": "ok"})


urlpatterns = [path("webhooks/bling/", empty_view)]
