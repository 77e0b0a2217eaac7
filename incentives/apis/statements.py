"""The API of statements, periods and runs."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from calls.roles import AGENT, HR, LEAD
from calls.spreadsheets import csv_response
from incentives import selectors, services
from incentives.filters import StatementFilter
from incentives.models import (
    Period,
    Run,
)
from incentives.serializers import (
    PeriodSerializer,
    RunSerializer,
    StatementSerializer,
)


class StatementListApi(generics.ListAPIView):
    """Statements the caller may see: HR all, a lead their teams' approved ones, an agent their own."""

    allowed_roles = {HR, LEAD, AGENT}
    serializer_class = StatementSerializer
    filterset_class = StatementFilter  # the statements page's filters: period, team, tier, q, sort

    def get_queryset(self):
        return selectors.statements_visible_to(self.request.user)


class StatementDetailApi(generics.RetrieveAPIView):
    allowed_roles = {HR, LEAD, AGENT}
    serializer_class = StatementSerializer

    def get_object(self):
        return selectors.statement_get_for_user(self.request.user, self.kwargs["pk"])


class PeriodListApi(generics.ListAPIView):
    allowed_roles = {HR}
    serializer_class = PeriodSerializer
    queryset = Period.objects.select_related("approved_run").order_by("-year", "-month")


class PeriodPayrollApi(APIView):
    """The approved payouts of a month for the payroll system, as CSV (the page's export): 409 while
    the month is not approved or closed."""

    allowed_roles = {HR}

    @extend_schema(responses={(200, "text/csv"): str, 409: None})
    def get(self, request, pk: int):
        period = get_object_or_404(Period, pk=pk)
        rows = selectors.payroll_rows(period)  # PayrollNotReady: a 409 with its reason
        return csv_response(f"payroll-{period}.csv", selectors.PAYROLL_COLUMNS, rows)


class RunStartApi(APIView):
    """Start a computation run of a period (HR). 409 if one is already waiting or running."""

    allowed_roles = {HR}

    @extend_schema(request=None, responses={201: RunSerializer, 409: None})
    def post(self, request, pk: int):
        period = get_object_or_404(Period, pk=pk)
        run = services.run_start(period=period, requested_by=request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailApi(generics.RetrieveAPIView):
    """A run and its progress, chunk by chunk (HR)."""

    allowed_roles = {HR}
    serializer_class = RunSerializer
    queryset = Run.objects.select_related("period").prefetch_related("chunks__teams")
