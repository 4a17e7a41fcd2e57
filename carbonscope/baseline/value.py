"""Money: the net present value of a credit stream and InVEST's carbon valuation.

- NPV: ``sum_t q_t P_t / (1 + d)^t`` with ``t = 1..n`` (credits paid at the end of each year).
- InVEST (Carbon Storage and Sequestration model): the value of a change in storage ``dC`` (tonnes of
  carbon) between years p and q is ``K dC`` with
  ``K = V / (q - p) * sum_{t=0}^{q-p-1} 1 / ((1 + r/100)^t (1 + c/100)^t)``, V the price per tonne
  of carbon, r the discount rate and c the annual price change (both in percent).
"""

from __future__ import annotations

import numpy as np


def npv(amounts: np.ndarray, prices: np.ndarray | float, discount_rate: float) -> float:
    """Present value of ``amounts[t] * prices[t]`` received at the end of year t + 1."""
    a, p = np.asarray(amounts, float), np.broadcast_to(np.asarray(prices, float), np.shape(amounts))
    t = np.arange(1, a.size + 1)
    return float((a * p / (1 + discount_rate) ** t).sum())


def invest_constant(
    price_per_tc: float, discount_pct: float, price_change_pct: float, start_year: int, end_year: int
) -> float:
    """InVEST's valuation constant K (value per tonne of carbon stored between the two years)."""
    n = end_year - start_year
    if n <= 0:
        raise ValueError("the end year must come after the start year")
    t = np.arange(n)
    return float(price_per_tc / n * (1.0 / ((1 + discount_pct / 100) ** t * (1 + price_change_pct / 100) ** t)).sum())


def invest_value(
    delta_c: float, price_per_tc: float, discount_pct: float, price_change_pct: float, start_year: int, end_year: int
) -> float:
    """Value of a change in carbon storage (tonnes C; negative for a loss)."""
    return delta_c * invest_constant(price_per_tc, discount_pct, price_change_pct, start_year, end_year)
