"""How forms are drawn everywhere (``FORM_RENDERER``): each field in its own block with its label,
its help under the label and its errors beside the input (``templates/forms/``), styled by
``static/css/app.css``. Pages write ``{{ form }}``; nothing hand-writes a field."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
