"""The health decision (sources.health) names ingestion's stages without importing ingestion."""

from ingestion.models import StageError
from sources.health import Stage


def test_the_decision_knows_every_stage_ingestion_records():
    assert sorted(Stage) == sorted(StageError.Stage.values)
