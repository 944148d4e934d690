"""The pipeline arithmetic as plain Python."""

from __future__ import annotations

from decimal import Decimal as D

from services.investment.domain import ChainRole, PipelineProject, Stage, StageStay, summarize_pipeline


def project(stage: Stage, amount: str | None = None, chain: str | None = None, role: ChainRole | None = None,
            dropped_from: Stage | None = None) -> PipelineProject:
    return PipelineProject(stage, dropped_from, D(amount) if amount else None, chain, role)


def test_counts_reach_conversion_and_medians():
    figures = summarize_pipeline(
        [
            project(Stage.LEAD, "100", "ic", ChainRole.FILL),
            project(Stage.SIGNED, "300.50", "ic", ChainRole.EXTEND),
            project(Stage.IN_OPERATION, "1000", "bio"),
            project(Stage.DROPPED, "50", dropped_from=Stage.CONTACTING),
        ],
        [StageStay(Stage.LEAD, 3), StageStay(Stage.LEAD, 9), StageStay(Stage.LEAD, 4), StageStay(Stage.CONTACTING, 7)],
    )
    by = {f.stage: f for f in figures.stages}
    assert figures.total_projects == 4 and figures.total_agreed_investment_wan == D("1450.50")
    assert figures.active_projects == 3 and figures.active_agreed_investment_wan == D("1400.50")
    assert [by[s].reached for s in (Stage.LEAD, Stage.CONTACTING, Stage.NEGOTIATING, Stage.SIGNED, Stage.REGISTERED)] == [
        4, 3, 2, 2, 1
    ]
    assert by[Stage.IN_OPERATION].reached == 1 and by[Stage.DROPPED].count == 1
    assert by[Stage.LEAD].median_days == 4.0 and by[Stage.CONTACTING].median_days == 7.0
    assert by[Stage.NEGOTIATING].median_days is None
    rates = {(c.from_stage, c.to_stage): c.rate for c in figures.conversions}
    assert rates[(Stage.LEAD, Stage.CONTACTING)] == 0.75
    assert rates[(Stage.CONTACTING, Stage.NEGOTIATING)] == 0.6667
    assert rates[(Stage.SIGNED, Stage.REGISTERED)] == 0.5
    assert [(g.key, g.count, g.agreed_investment_wan) for g in figures.by_chain] == [
        ("bio", 1, D("1000")), ("ic", 2, D("400.50")), (None, 1, D("50"))
    ]
    assert [(g.key, g.by_stage) for g in figures.by_chain_role] == [
        ("扩链", {"signed": 1}), ("补链", {"lead": 1}), (None, {"in_operation": 1, "dropped": 1})
    ]


def test_projects_without_an_agreed_investment_count_as_zero_and_nothing_gives_no_rates():
    figures = summarize_pipeline([project(Stage.LEAD)], [])
    assert figures.total_agreed_investment_wan == D("0.00")
    empty = summarize_pipeline([], [])
    assert all(c.rate is None for c in empty.conversions) and empty.by_chain == []
