"""Features computed from aligned layers, the same code for training samples and for maps.

A layer's ``role`` says what it holds; the features each role gives:

- ``hh``, ``hv``: ALOS PALSAR/PALSAR-2 amplitude DN -> ``hh_db``, ``hv_db`` by the JAXA
  calibration to gamma-naught (gamma0 = 10 log10(DN^2) + CF, CF = -83.0 dB; terrain-flattened
  mosaics), then ``hh_hv_diff`` and ``hh_hv_ratio``.
- ``vv``, ``vh``: Sentinel-1 backscatter in linear power -> ``vv_db``, ``vh_db``; ``vv_db``/``vh_db``
  roles are already in dB. Then ``vv_vh_diff`` and ``vv_vh_ratio``. As in the Earth Engine recipe,
  the ratio is taken between the dB values (the difference of dB values is the log of the linear ratio).
- ``coastal, blue, green, red, nir, swir1, swir2, rededge1..3``: surface reflectance (0-1 after the layer's
  scale and offset) -> the bands and the indices their bands allow: NDVI, EVI, NDWI (McFeeters),
  NDMI, SAVI, NBR, NDRE.
- ``elevation``: metres -> ``elevation``, ``slope`` (degrees), ``northness`` = cos(aspect),
  ``eastness`` = sin(aspect) (0 on flat ground).
- ``landcover`` (categorical): one-hot ``lc_<class>`` for the classes listed in the layer config.
- any other layer, or no role: its value under its own name.
- texture (``[features] texture = true``): grey-level co-occurrence contrast, dissimilarity and
  homogeneity of the radar dB layers in a 7 x 7 window (offsets right and down, symmetric, 32 grey
  levels over ``texture_range``). These three GLCM statistics depend only on the grey-level
  difference of each pixel pair, so the window mean of that difference function is exact. Pairs
  with a missing pixel (or off the raster) are left out; with no pair left, the texture is missing.

Every feature is float32 with NaN where any input is missing; samples and pixels with a NaN
feature are dropped or left unpredicted, never filled with a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from carbonscope.biomass.config import FeatureConfig, LayerConfig
from carbonscope.errors import InputError

PALSAR_CF_DB = -83.0
OPTICAL = ("coastal", "blue", "green", "red", "nir", "swir1", "swir2", "rededge1", "rededge2", "rededge3")
INDICES = {
    "ndvi": ("nir", "red"),
    "evi": ("nir", "red", "blue"),
    "ndwi": ("green", "nir"),
    "ndmi": ("nir", "swir1"),
    "savi": ("nir", "red"),
    "nbr": ("nir", "swir2"),
    "ndre": ("nir", "rededge1"),
}
SETS = ("sar", "optical", "indices", "terrain", "landcover", "texture", "raw")
TEXTURE_WINDOW = 7
TEXTURE_LEVELS = 32
TEXTURE_STATS = ("contrast", "dissimilarity", "homogeneity")


def _db_from_dn(dn: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 10.0 * np.log10(dn.astype("float64") ** 2) + PALSAR_CF_DB
    out[~np.isfinite(out)] = np.nan
    return out.astype("float32")


def _db_from_power(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 10.0 * np.log10(p.astype("float64"))
    out[~np.isfinite(out)] = np.nan
    return out.astype("float32")


def _nd(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((a - b) / (a + b)).astype("float32")


def _index(name: str, o: dict[str, np.ndarray]) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "ndvi":
            return _nd(o["nir"], o["red"])
        if name == "evi":
            return (2.5 * (o["nir"] - o["red"]) / (o["nir"] + 6 * o["red"] - 7.5 * o["blue"] + 1)).astype("float32")
        if name == "ndwi":
            return _nd(o["green"], o["nir"])
        if name == "ndmi":
            return _nd(o["nir"], o["swir1"])
        if name == "savi":
            return (1.5 * (o["nir"] - o["red"]) / (o["nir"] + o["red"] + 0.5)).astype("float32")
        if name == "nbr":
            return _nd(o["nir"], o["swir2"])
        if name == "ndre":
            return _nd(o["nir"], o["rededge1"])
    raise KeyError(name)


def terrain(elev: np.ndarray, res: float) -> dict[str, np.ndarray]:
    """Slope (degrees) and aspect as northness/eastness from an elevation array (rows run south)."""
    e = elev.astype("float64")
    dz_dy = np.gradient(e, res, axis=0) if e.shape[0] > 1 else np.zeros_like(e)
    dz_dx = np.gradient(e, res, axis=1) if e.shape[1] > 1 else np.zeros_like(e)
    dz_dnorth = -dz_dy  # row index grows southwards
    slope_rad = np.arctan(np.hypot(dz_dx, dz_dnorth))
    # aspect: compass direction the slope faces (downhill), clockwise from north
    aspect = np.arctan2(-dz_dx, -dz_dnorth)
    flat = slope_rad == 0
    north = np.where(flat, 0.0, np.cos(aspect))
    east = np.where(flat, 0.0, np.sin(aspect))
    nan = np.isnan(elev)
    out = {
        "elevation": elev.astype("float32"),
        "slope": np.degrees(slope_rad).astype("float32"),
        "northness": north.astype("float32"),
        "eastness": east.astype("float32"),
    }
    for k in ("slope", "northness", "eastness"):
        out[k][nan | np.isnan(out["slope"])] = np.nan
    return out


def glcm(
    db: np.ndarray, lo: float, hi: float, window: int = TEXTURE_WINDOW, levels: int = TEXTURE_LEVELS
) -> dict[str, np.ndarray]:
    """GLCM contrast, dissimilarity, homogeneity in a window; offsets (0,1) and (1,0), symmetric.

    The window mean is a box filter, which is linear: each statistic's per-pair values of both
    offsets are added first and filtered once (four filters, not eight).
    """
    from scipy.ndimage import uniform_filter

    q = np.floor((np.clip(db, lo, hi - 1e-6) - lo) / (hi - lo) * levels).astype("float32")
    h, w = q.shape
    per_pair = {stat: np.zeros((h, w), dtype="float32") for stat in TEXTURE_STATS}
    pairs = np.zeros((h, w), dtype="float32")
    for dr, dc in ((0, 1), (1, 0)):
        d = np.full((h, w), np.nan, dtype="float32")
        d[: h - dr, : w - dc] = q[dr:, dc:] - q[: h - dr, : w - dc]  # aligned to each pair's first pixel
        valid = ~np.isnan(d)
        d[~valid] = 0.0
        pairs += valid
        d2 = d * d
        per_pair["contrast"] += d2
        per_pair["dissimilarity"] += np.abs(d)
        hom = 1.0 / (1.0 + d2)
        hom[~valid] = 0.0
        per_pair["homogeneity"] += hom
    count = uniform_filter(pairs, size=window, mode="constant")
    bad = count < 1e-6  # no pair in the window has data
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for stat, v in per_pair.items():
            v = uniform_filter(v, size=window, mode="constant")
            v /= count
            v[bad] = np.nan
            out[stat] = v
    return out


@dataclass(frozen=True)
class FeatureSpec:
    """Which features to compute from which layers; picklable, so workers can use it."""

    layers: tuple[LayerConfig, ...]
    names: tuple[str, ...]
    texture_on: tuple[str, ...] = ()
    texture_range: tuple[float, float] = (-35.0, 5.0)
    halo: int = 0
    categorical: tuple[str, ...] = field(default_factory=tuple)

    def compute(self, arrays: dict[str, np.ndarray], res: float) -> dict[str, np.ndarray]:
        """All features over the arrays (which include the halo)."""
        by_role = {(layer.role or layer.name): arrays[layer.name] for layer in self.layers}
        out: dict[str, np.ndarray] = {}
        for pol in ("hh", "hv"):
            if pol in by_role:
                out[f"{pol}_db"] = _db_from_dn(by_role[pol])
        for pol in ("vv", "vh"):
            if pol in by_role:
                out[f"{pol}_db"] = _db_from_power(by_role[pol])
            elif f"{pol}_db" in by_role:
                out[f"{pol}_db"] = by_role[f"{pol}_db"].astype("float32")
        for a, b in (("hh", "hv"), ("vv", "vh")):
            if f"{a}_db" in out and f"{b}_db" in out:
                out[f"{a}_{b}_diff"] = out[f"{a}_db"] - out[f"{b}_db"]
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[f"{a}_{b}_ratio"] = (out[f"{a}_db"] / out[f"{b}_db"]).astype("float32")
        optical = {b: by_role[b].astype("float32") for b in OPTICAL if b in by_role}
        out.update(optical)
        for name, needs in INDICES.items():
            if all(n in optical for n in needs) and name in self.names:
                out[name] = _index(name, optical)
        if "elevation" in by_role:
            out.update(terrain(by_role["elevation"], res))
        for layer in self.layers:
            if layer.role == "landcover" or layer.kind == "categorical":
                cat: np.ndarray = arrays[layer.name]
                for c in layer.classes or []:
                    v = (cat == c).astype("float32")
                    v[np.isnan(cat)] = np.nan
                    out[f"lc_{c}" if layer.role == "landcover" else f"{layer.name}_{c}"] = v
            elif (layer.role or layer.name) not in KNOWN_ROLES:
                out[layer.name] = arrays[layer.name].astype("float32")
        for src in self.texture_on:
            for stat, v in glcm(out[src], *self.texture_range).items():
                out[f"{src}_{stat}"] = v
        return {n: out[n] for n in self.names}

    def stack(self, arrays: dict[str, np.ndarray], res: float, crop: int = 0) -> np.ndarray:
        """Features as one (n_features, h, w) float32 array, the halo cropped."""
        feats = self.compute(arrays, res)
        first = next(iter(feats.values()))
        h, w = first.shape
        s = np.empty((len(self.names), h - 2 * crop, w - 2 * crop), dtype="float32")
        for i, n in enumerate(self.names):
            s[i] = feats[n][crop : h - crop, crop : w - crop]
        return s


KNOWN_ROLES = {"hh", "hv", "vv", "vh", "vv_db", "vh_db", "elevation", "landcover", *OPTICAL}


def available(layers: list[LayerConfig]) -> dict[str, list[str]]:
    """Feature names by set that these layers allow."""
    roles = {(layer.role or layer.name) for layer in layers}
    sets: dict[str, list[str]] = {s: [] for s in SETS}
    for a, b, _kind in (("hh", "hv", "dn"), ("vv", "vh", "lin")):
        present = [p for p in (a, b) if p in roles or f"{p}_db" in roles]
        sets["sar"] += [f"{p}_db" for p in present]
        if len(present) == 2:
            sets["sar"] += [f"{a}_{b}_diff", f"{a}_{b}_ratio"]
    sets["optical"] = [b for b in OPTICAL if b in roles]
    sets["indices"] = [n for n, needs in INDICES.items() if all(x in roles for x in needs)]
    if "elevation" in roles:
        sets["terrain"] = ["elevation", "slope", "northness", "eastness"]
    for layer in layers:
        if layer.role == "landcover" or layer.kind == "categorical":
            if not layer.classes:
                raise InputError(
                    f"layer {layer.name!r} is categorical: list its classes (classes = [1, 2, 3]) so maps and samples share one encoding"
                )
            prefix = "lc" if layer.role == "landcover" else layer.name
            sets["landcover"] += [f"{prefix}_{c}" for c in layer.classes]
        elif (layer.role or layer.name) not in KNOWN_ROLES:
            if layer.role is not None:
                raise InputError(
                    f"layer {layer.name!r}: unknown role {layer.role!r}; known roles: {', '.join(sorted(KNOWN_ROLES))}"
                )
            sets["raw"].append(layer.name)
    sets["texture"] = [f"{s}_{stat}" for s in sets["sar"] if s.endswith("_db") for stat in TEXTURE_STATS]
    return sets


def build(layers: list[LayerConfig], cfg: FeatureConfig) -> FeatureSpec:
    """The feature spec for a run: named sets, plus include, minus exclude; unknown names refused."""
    layers = [layer for layer in layers if layer.feature]
    sets = available(layers)
    wanted: list[str] = []
    for s in cfg.sets:
        if s == "auto":
            for k in SETS:
                if k != "texture" or cfg.texture:
                    wanted += sets[k]
        elif s in sets:
            wanted += sets[s]
        else:
            raise InputError(f"features.sets: unknown set {s!r}; known: auto, {', '.join(SETS)}")
    if cfg.texture and "texture" not in cfg.sets:
        wanted += sets["texture"]
    everything = {n for v in sets.values() for n in v}
    for n in cfg.include:
        if n not in everything:
            raise InputError(
                f"features.include: {n!r} cannot be computed from these layers; possible: {', '.join(sorted(everything))}"
            )
        wanted.append(n)
    for n in cfg.exclude:
        if n not in everything:
            raise InputError(f"features.exclude: unknown feature {n!r}")
    names = tuple(dict.fromkeys(n for n in wanted if n not in set(cfg.exclude)))
    if not names:
        raise InputError("no features: the layers and feature sets give nothing to model with")
    texture_on = tuple(dict.fromkeys(n.rsplit("_", 1)[0] for n in names if n.rsplit("_", 1)[-1] in TEXTURE_STATS))
    halo = 0
    if any(n in names for n in ("slope", "northness", "eastness")):
        halo = 1
    if texture_on:
        halo = TEXTURE_WINDOW // 2 + 1
    lo, hi = cfg.texture_range
    return FeatureSpec(tuple(layers), names, texture_on, (lo, hi), halo)
