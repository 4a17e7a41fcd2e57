"""Rate formulas, VMD0007 fits, valuation and the Olofsson estimator against known values."""

import math

import numpy as np
import pandas as pd
import pytest

from carbonscope.baseline import accuracy, fit, value
from carbonscope.baseline.change import compound_rate, simple_rate


def test_rates():
    assert simple_rate(1000, 900, 10) == pytest.approx(0.01)
    # Puyravaud 2003: r = (1/(t2-t1)) ln(A2/A1); here as a positive loss rate
    assert compound_rate(1000, 900, 10) == pytest.approx(-math.log(0.9) / 10)
    assert compound_rate(100, 50, 1) == pytest.approx(math.log(2))
    assert math.isnan(simple_rate(0, 0, 5)) and math.isnan(compound_rate(10, 0, 5))


def test_linear_fit_recovers_a_line():
    t = np.arange(2000, 2010)
    f = fit.fit("linear", t, 3 + 2 * (t - 2000))
    assert f.params == pytest.approx({"a": 3, "b": 2})
    assert f.r2 == pytest.approx(1) and f.allowed and f.dof == 8


def test_exponential_and_logarithmic_fits_recover_their_curves():
    t = np.arange(2005, 2015, dtype=float)
    e = fit.fit("exponential", t, 5 * np.exp(0.1 * (t - 2005)))
    assert e.params["a"] == pytest.approx(5, rel=1e-6) and e.params["b"] == pytest.approx(0.1, rel=1e-6)
    lg = fit.fit("logarithmic", t, 2 + 3 * np.log(t - 2005 + 1))
    assert lg.params == pytest.approx({"a": 2, "b": 3}) and lg.r2 == pytest.approx(1)
    assert e.allowed and lg.allowed  # ten observations


def test_known_r2_and_vmd0007_rules():
    t = np.array([0, 1, 2, 3.0])
    y = np.array([1, 3, 2, 5.0])
    f = fit.fit("linear", t, y)
    # OLS: b = 1.1, a = 1.1; residuals -0.1, 0.8, -1.3, 0.6: SS_res = 2.7, SS_tot = 8.75
    assert f.params == pytest.approx({"a": 1.1, "b": 1.1})
    assert f.r2 == pytest.approx(1 - 2.7 / 8.75)
    assert not f.r2_ok and any("below 0.75" in n for n in f.notes)
    fits = fit.fit_all(t, y)
    # four observations: every method can be fitted (no uncited rule by count) and keeps two degrees of freedom
    assert all(x.allowed and x.supported and x.dof >= 2 for x in fits.values())
    assert not any("VMD0007 allows" in n for x in fits.values() for n in x.notes)
    avg = fits["average"]
    assert avg.params == pytest.approx({"a": 1, "b": 4 / 3})  # through the first and last points
    assert fit.choose(fits).fit.method == "average"  # no other method reaches 0.75


def test_three_epochs_leave_one_degree_of_freedom():
    f = fit.fit("linear", [2000, 2010, 2020], [10, 9, 7])
    assert f.dof == 1 and any("1 degree" in n for n in f.notes)


def test_rate_series_average_is_the_mean():
    f = fit.fit("average", [2001, 2002, 2003], [10, 20, 30], kind="rate")
    assert f.predict([2030]).tolist() == [20]


def test_npv():
    assert value.npv([100, 100], 12.0, 0.10) == pytest.approx(1200 / 1.1 + 1200 / 1.21)
    assert value.npv([5, 5, 5], [1, 2, 3], 0.0) == pytest.approx(30)


def test_invest_valuation_constant_matches_invest_tests():
    # InVEST's own test: 2010 to 2012, r = 50 %, c = 5 %, V = 50 -> K = 40.87302
    assert value.invest_constant(50, 50, 5, 2010, 2012) == pytest.approx(40.87302, abs=1e-5)
    assert value.invest_value(-2.0, 50, 50, 5, 2010, 2012) == pytest.approx(-81.74603, abs=1e-4)


def test_olofsson_2014_worked_example():
    # Olofsson et al. 2014, section 5: strata of 200,000 / 150,000 / 3,200,000 / 6,450,000 pixels (30 m)
    names = ["deforestation", "gain", "forest", "non_forest"]
    px = 0.09
    areas = dict(zip(names, [200_000 * px, 150_000 * px, 3_200_000 * px, 6_450_000 * px]))
    counts = pd.DataFrame([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]], index=names, columns=names)
    est = accuracy.estimate(areas, counts)
    d = est["classes"]["deforestation"]
    assert d["area"] == pytest.approx(21_158, abs=1)
    assert d["ci95"] == pytest.approx(6_158, abs=1)
    assert est["classes"]["gain"]["area"] == pytest.approx(11_686, abs=1)
    assert est["classes"]["forest"]["area"] == pytest.approx(285_770, abs=1)
    assert est["classes"]["non_forest"]["area"] == pytest.approx(581_386, abs=1)
    assert d["users_accuracy"] == pytest.approx(0.88) and d["producers_accuracy"] == pytest.approx(0.75, abs=0.005)
    assert est["overall_accuracy"] == pytest.approx(0.95, abs=0.005)


def test_the_choice_prefers_the_simplest_method_unless_another_is_better_by_the_margin():
    t = np.arange(2000, 2008, dtype=float)
    y = 100 * np.exp(0.02 * (t - 2000)) + np.array([0.3, -0.2, 0.1, -0.3, 0.2, 0.0, -0.1, 0.2])
    fits = fit.fit_all(t, y)
    lin, exp_ = fits["linear"], fits["exponential"]
    assert exp_.allowed and lin.allowed and exp_.r2 > lin.r2  # eight observations: all four allowed
    choice = fit.choose(fits)
    # the line through the first and last points already explains the series: within the margin
    assert fits["average"].r2 > 0.98 and choice.fit.method == "average"
    assert "the simplest eligible method" in choice.rule and "not better by more than 0.05" in choice.rule
    # with no margin the best R² wins, as before
    assert (
        fit.choose(fits, margin=0.0).fit.method
        == max((f for f in fits.values() if f.allowed), key=lambda f: f.r2).method
    )
    forced = fit.choose(fits, use="logarithmic")
    assert forced.forced and forced.fit.method == "logarithmic" and "chosen in the configuration" in forced.rule


def test_a_fit_needs_two_degrees_of_freedom_to_be_chosen():
    # three dates: a line through them has one degree of freedom and a perfect-looking R²
    fits = fit.fit_all([2000, 2010, 2020], [100.0, 90.0, 70.0])
    assert fits["linear"].dof == 1 and not fits["linear"].supported and fits["linear"].r2 > 0.96
    assert fits["average"].dof == 2 and fits["average"].supported
    choice = fit.choose(fits)
    assert choice.fit.method == "average" and "too few observations for linear" in choice.rule
    # a rate series from three dates: two periods, only the average (their mean) is usable
    rates = fit.fit_all([2005, 2015], [10.0, 20.0], kind="rate")
    assert fit.choose(rates).fit.method == "average"


def test_the_historical_average_of_unequal_periods_is_total_loss_over_total_years():
    # 2000-2005 lost 50 ha/yr (250 ha), 2005-2020 lost 20 ha/yr (300 ha): 550 ha in 20 years
    f = fit.fit("average", [2002.5, 2012.5], [50.0, 20.0], kind="rate", weights=[5.0, 15.0])
    assert f.params["mean"] == pytest.approx(550 / 20) and f.predict([2030]).tolist() == [27.5]
    assert fit.fit("average", [2002.5, 2012.5], [50.0, 20.0], kind="rate").params["mean"] == 35.0
    with pytest.raises(ValueError, match="positive duration"):
        fit.fit("average", [2002.5, 2012.5], [50.0, 20.0], kind="rate", weights=[5.0, 0.0])


def test_ex_ante_credits_share_the_baseline_draw_and_match_the_analytic_interval():
    from scipy.stats import norm

    from carbonscope.baseline import credits

    years = list(range(2021, 2031))
    base = np.full(10, 100.0)  # ha/yr
    eff = 0.5
    inp = credits.CreditInputs(years, base, base * (1 - eff), 500.0, 0.0, 0.0, np.full(10, 10.0), 0.0, True)
    s = 0.10
    iv = credits.monte_carlo(inp, s, s, 0.0, 40_000, 7, 0.90)["creditable_tco2e"]
    total = 10 * 100 * eff * 500  # creditable = baseline x effectiveness x EF, times the area draw
    width = 2 * norm.ppf(0.95) * s * total  # a normal multiplier: the interval is exact
    assert iv["upper"] - iv["lower"] == pytest.approx(width, rel=0.03)
    apart = credits.CreditInputs(years, base, base * (1 - eff), 500.0, 0.0, 0.0, np.full(10, 10.0), 0.0, False)
    wide = credits.monte_carlo(apart, s, s, 0.0, 40_000, 7, 0.90)["creditable_tco2e"]
    # drawn apart, base x a - base x (1 - eff) x p has sd sqrt(1 + (1 - eff)^2) s against eff s: 2.24 times wider
    assert (wide["upper"] - wide["lower"]) / width == pytest.approx(np.sqrt(1 + (1 - eff) ** 2) / eff, rel=0.05)
