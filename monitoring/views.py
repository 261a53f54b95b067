from django.http import HttpResponse

from qms.core.views_auth import require


@require("portal.view")
def dashboard(request):
    return HttpResponse("")


@require("portal.view")
def objective_detail(request, pk):
    return HttpResponse("")


@require("portal.view")
def alarm_list(request):
    return HttpResponse("")


@require("portal.view")
def alarm_detail(request, code):
    return HttpResponse("")
