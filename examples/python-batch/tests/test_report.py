from job.report import main, render, settings, totals


def test_totals_by_region():
    rows = [{"region": "north", "amount": "1.5"}, {"region": " north", "amount": "2"}, {"region": "east", "amount": "3"}]
    assert totals(rows) == {"east": 3.0, "north": 3.5}


def test_render():
    assert render("T", "EUR", {"a": 1.0}) == "T\na              1.00 EUR"


def test_settings():
    assert settings()["currency"] == "EUR"


def test_main_prints_the_report(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Orders by region\n")
    assert "north        150.75 EUR" in out
