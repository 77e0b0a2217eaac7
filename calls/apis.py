"""The import API (HR): upload a file, follow its batch, roll it back; the queues' figures (HR, leads)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from calls import selectors, services
from calls.filters import ImportBatchFilter
from calls.metrics import queue_figures
from calls.models import ImportBatch
from calls.roles import HR, LEAD
from calls.serializers import (
    ImportBatchSerializer,
    ImportRequestSerializer,
    QueueFiguresPageSerializer,
    QueueFiguresQuerySerializer,
    QueueFiguresSerializer,
)


class ImportCreateApi(generics.ListAPIView):
    """GET: the imports, newest first, with the import page's filters (``status``, ``source``,
    ``kind``, ``q``, ``sort``). POST: upload a file to import (multipart); answers 202 with the batch,
    which a worker imports (in process without a broker, so the batch is already final then)."""

    allowed_roles = {HR}
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ImportBatchSerializer
    queryset = ImportBatch.objects.select_related("mapping")
    filterset_class = ImportBatchFilter

    @extend_schema(request=ImportRequestSerializer, responses={202: ImportBatchSerializer})
    def post(self, request):
        incoming = ImportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        d = incoming.validated_data
        period = tuple(int(p) for p in d["period"].split("-")) if d.get("period") else None
        batch = services.upload_accept(
            uploaded=d["file"],
            kind=d["kind"],
            source=d.get("source"),
            mapping=d.get("mapping"),
            allow_partial=d["allow_partial"],
            period=period,
            queue_log=d["queue_log"],
            created_by=request.user,
        )
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(generics.RetrieveAPIView):
    allowed_roles = {HR}
    serializer_class = ImportBatchSerializer
    queryset = ImportBatch.objects.all()


class ImportRollbackApi(APIView):
    allowed_roles = {HR}

    @extend_schema(request=None, responses={200: ImportBatchSerializer, 409: None})
    def post(self, request, pk: int):
        batch = get_object_or_404(ImportBatch, pk=pk)
        batch = services.batch_rollback(batch=batch)  # a refusal: 409 (calls.errors)
        return Response(ImportBatchSerializer(batch).data)


class QueueFiguresApi(APIView):
    """Each queue's figures over a period: offered calls (those that joined it), answered, abandoned
    (offered, answered by nobody), refused (could not join), ASA, service level, answer and
    abandonment rates, rings without answer on its agents. Not an agent's data: HR and leads."""

    allowed_roles = {HR, LEAD}

    @extend_schema(
        parameters=[QueueFiguresQuerySerializer], responses={200: QueueFiguresPageSerializer}
    )
    def get(self, request):
        asked = QueueFiguresQuerySerializer(data=request.query_params)
        asked.is_valid(raise_exception=True)
        d = asked.validated_data
        start, end = selectors.queue_period(
            month=d.get("month"), start=d.get("start"), end=d.get("end"), now=timezone.now()
        )
        figures = queue_figures(
            start=start,
            end=end,
            queue=d["queue"],
            answer_within_seconds=d["answer_within_seconds"],
            short_abandon_seconds=d["short_abandon_seconds"],
        )
        rows = [
            dict(
                f._asdict(),
                answer_rate=f.answer_rate,
                abandon_rate=f.abandon_rate,
                asa=f.asa,
                service_level=f.service_level,
            )
            for f in figures
        ]
        return Response(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "answer_within_seconds": d["answer_within_seconds"],
                "short_abandon_seconds": d["short_abandon_seconds"],
                "queues": QueueFiguresSerializer(rows, many=True).data,
            }
        )
