"""The receiver view: `POST /webhooks/bling/`. Thin: it hands the raw request to the inbox."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from blingsync.client_address import client_address
from webhooks.inbox import webhook_receive

_ANSWERS = {
    200: "ok",
    400: "bad request",
    401: "invalid signature",
    413: "body too large",
}


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def bling_webhook(request: HttpRequest) -> JsonResponse:
    # Read at most one byte past the limit straight from the stream: `request.body` would
    # raise (and answer 400) past DATA_UPLOAD_MAX_MEMORY_SIZE instead of the 413 we record.
    body = request.read(settings.WEBHOOK_MAX_BODY_BYTES + 1)
    status, _event = webhook_receive(
        body=body, headers=dict(request.headers), remote_addr=client_address(request)
    )
    return JsonResponse({"status": _ANSWERS.get(status, "error")}, status=status)
