from django.apps import AppConfig


class LogTypesConfig(AppConfig):
    name = "logtypes"
    label = "logtypes"
    verbose_name = "Log types"
