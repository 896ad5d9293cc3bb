#!/usr/bin/env python3
"""Train the Model Canary sample models ("propensity" scenario).

Scenario
--------
An online retailer scores customers by their propensity to convert (buy)
in the next visit. Three scikit-learn pipelines are trained on a synthetic
but plausible dataset:

* ``propensity-v1`` - the production baseline: a LogisticRegression that only
  looks at ``age``, ``tenure_months`` and ``basket_value``.
* ``propensity-v2`` - the challenger: a HistGradientBoostingClassifier on all
  six features. It captures the non-linear effects and interactions of the
  data generator and is measurably better at targeting.
* ``propensity-v3`` - a shadow candidate: a small RandomForest that ignores
  ``channel``; it sits between v1 and v2 and agrees with v1 on most, but not
  all, rows.

All three accept a pandas DataFrame with ALL six feature columns, in this
order: age, tenure_months, sessions_30d, basket_value, channel, region.

Outputs (relative to ``--out``, default: the folder of this script)
----------------------------------------------------------------------
* ``propensity-v{1,2,3}/model.joblib`` and ``model-settings.json`` (MLServer)
* ``propensity-xgb/model.ubj`` and ``propensity-v1-encoded/model.joblib`` (with their
  ``model-settings.json``): the pipeline's models, on the 12 columns the feature transformer
  ``propensity-features`` produces (experiments/propensity-pipeline.yaml)
* ``data/reference.csv`` - training sample used as the drift reference
* ``data/reference-features.csv`` - the same rows as the feature transformer encodes them: the
  drift reference of the pipeline's model input (experiments/propensity-pipeline.yaml)
* ``data/traffic.csv``   - held-out rows (with ``user_id`` and label) used to
  simulate live traffic
* ``metrics.json``       - held-out metrics, also printed to stdout
* ``detectors/propensity-ks/`` - a KSDrift detector saved with alibi-detect's
  ``save_detector`` (reference data: the numeric features of reference.csv),
  for the experiment's ``spec.drift.detectors``. alibi-detect needs numpy < 2,
  so it runs in its own environment: ``--detector-python`` names that
  environment's Python (``tools/install-alibi-detect.sh`` makes one), which
  re-runs this script with ``--detector-only``

Everything is seeded: re-running produces byte-identical CSV/JSON files and
models that give identical ``predict_proba`` outputs.

Usage::

    python train.py [--out DIR] [--detector-python PYTHON]
    PYTHON train.py --detector-only [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits  # ships with scikit-learn

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

SEED = 20240601  # single source of randomness for data AND models

NUMERIC_FEATURES = ["age", "tenure_months", "sessions_30d", "basket_value"]
CATEGORICAL_FEATURES = ["channel", "region"]
# The column order every model expects (and the header of reference.csv).
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
LABEL = "converted"
TRAFFIC_COLUMNS = ["user_id", *FEATURES, LABEL]

CHANNELS = ["web", "app", "email", "store"]
CHANNEL_P = [0.42, 0.30, 0.14, 0.14]
REGIONS = ["north", "south", "east", "west"]
REGION_P = [0.28, 0.24, 0.26, 0.22]

N_TRAIN = 9000  # rows used to fit the models
N_TRAFFIC = 4000  # held-out rows -> data/traffic.csv (and metrics)
N_REFERENCE = 3000  # training sample -> data/reference.csv

# The sample KSDrift detector: feature-wise two-sample KS tests with Bonferroni over the
# features. Its p_val is strict because the router asks it about every batch of every variant:
# with 0.001 a run of a few hundred batches without drift still rarely raises a false alarm.
DETECTOR_DIR = Path("detectors") / "propensity-ks"
DETECTOR_P_VAL = 0.001

THRESHOLD = 0.5  # decision threshold used for precision/recall/positive rate
TOP_FRACTION = 0.10  # "top of the ranking" for precision@top-10%


# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------


def generate_customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` customers with plausible marginals and a conversion label.

    The label is Bernoulli(sigmoid(logit)) where the logit has deliberately
    NON-LINEAR effects and interactions, so a linear model on a subset of
    the features (v1) is clearly beaten by boosted trees (v2):

    * age bump: customers around 30-36 convert more (Gaussian bump);
    * tenure: saturating (log) lift, brand-new customers convert less;
    * channel x sessions: engagement matters a lot in the app, somewhat on the
      web, little for email and not at all in store;
    * basket threshold: carts above the free-shipping threshold (75.00)
      convert much more; a linear term on basket_value only approximates it;
    * region: a small uplift in the east;
    * extra Gaussian noise on the logit on top of the Bernoulli draw.
    """
    # --- features ---------------------------------------------------------
    # age: right-skewed, median ~38, clipped to 18-80
    age = np.clip(np.round(rng.gamma(shape=4.0, scale=6.0, size=n) + 16), 18, 80)
    age = age.astype(np.int64)

    # tenure in months: many new customers, long tail (max 10 years)
    tenure = np.clip(np.floor(rng.exponential(scale=22.0, size=n)), 0, 120)
    tenure = tenure.astype(np.int64)

    channel = rng.choice(CHANNELS, size=n, p=CHANNEL_P)
    region = rng.choice(REGIONS, size=n, p=REGION_P)

    # sessions in the last 30 days: overdispersed counts, app users are more
    # active (negative binomial via a gamma-Poisson mixture)
    activity = np.select(
        [channel == "app", channel == "web", channel == "email"],
        [9.0, 5.0, 3.0],
        default=2.0,
    )
    sessions = rng.poisson(rng.gamma(shape=2.0, scale=activity / 2.0))
    sessions = np.clip(sessions, 0, 60).astype(np.int64)

    # basket value: log-normal around ~55, rounded to cents
    basket = np.round(np.clip(rng.lognormal(mean=3.85, sigma=0.55, size=n), 3, 600), 2)

    # --- label ------------------------------------------------------------
    logit = np.full(n, -4.1)
    # age bump centred on 33
    logit += 1.1 * np.exp(-(((age - 33) / 6.0) ** 2))
    # saturating tenure effect (0 for brand-new, ~+0.85 at 10 years)
    logit += 0.18 * np.log1p(tenure)
    # channel x sessions interaction (capped so heavy users don't explode)
    capped = np.minimum(sessions, 20)
    slope = np.select(
        [channel == "app", channel == "web", channel == "email"],
        [0.20, 0.08, 0.03],
        default=0.0,
    )
    logit += slope * capped
    # store visitors have a flat, higher baseline (they're already in store)
    logit += np.where(channel == "store", 0.9, 0.0)
    # free-shipping threshold effect on basket value
    logit += np.where(basket >= 75.0, 1.9, 0.0)
    # small regional effect
    logit += np.where(region == "east", 0.25, 0.0)
    # unobserved heterogeneity
    logit += rng.normal(0.0, 0.4, size=n)

    p = 1.0 / (1.0 + np.exp(-logit))
    converted = (rng.random(n) < p).astype(np.int64)

    return pd.DataFrame(
        {
            "age": age,
            "tenure_months": tenure,
            "sessions_30d": sessions,
            "basket_value": basket,
            "channel": channel,
            "region": region,
            LABEL: converted,
        }
    )


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


def build_v1() -> Pipeline:
    """Baseline: LogisticRegression on age, tenure_months and basket_value.

    It still accepts all six columns; the ColumnTransformer drops the rest.
    """
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["age", "tenure_months", "basket_value"])],
        remainder="drop",
    )
    clf = LogisticRegression(max_iter=1000, random_state=SEED)
    return Pipeline([("pre", pre), ("clf", clf)])


def build_v2() -> Pipeline:
    """Challenger: gradient-boosted trees on all features."""
    pre = ColumnTransformer(
        [
            ("num", "passthrough", NUMERIC_FEATURES),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                CATEGORICAL_FEATURES,
            ),
        ],
        remainder="drop",
    )
    clf = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=200,
        max_depth=4,
        max_leaf_nodes=15,
        min_samples_leaf=50,
        l2_regularization=1.0,
        early_stopping=False,  # no internal random validation split
        random_state=SEED,
    )
    return Pipeline([("pre", pre), ("clf", clf)])


def build_v3() -> Pipeline:
    """Shadow candidate: a small, shallow random forest.

    It deliberately ignores ``channel`` (a "channel-agnostic" candidate, e.g.
    for a new storefront where the channel is unknown), so it cannot model
    the channel x sessions interaction: better than v1, behind v2, and its
    labels agree with v1 on most but not all rows.
    """
    pre = ColumnTransformer(
        [
            ("num", "passthrough", NUMERIC_FEATURES),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["region"]),
        ],
        remainder="drop",
    )
    clf = RandomForestClassifier(
        n_estimators=30,
        max_depth=4,
        max_features="sqrt",
        min_samples_leaf=20,
        n_jobs=1,
        random_state=SEED,
    )
    return Pipeline([("pre", pre), ("clf", clf)])


MODELS = {"v1": build_v1, "v2": build_v2, "v3": build_v3}


def evaluate(y_true: np.ndarray, proba: np.ndarray) -> dict:
    """Held-out metrics for one model (rounded so metrics.json is stable)."""
    pred = (proba >= THRESHOLD).astype(np.int64)
    k = int(round(TOP_FRACTION * len(proba)))
    # stable sort so ties are broken deterministically
    top = np.argsort(-proba, kind="stable")[:k]
    return {
        "roc_auc": round(float(roc_auc_score(y_true, proba)), 4),
        "precision": round(float(precision_score(y_true, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y_true, pred, zero_division=0)), 4),
        "positive_rate": round(float(pred.mean()), 4),
        "precision_at_top10pct": round(float(y_true[top].mean()), 4),
    }


# --------------------------------------------------------------------------
# Writers (deterministic)
# --------------------------------------------------------------------------


def write_json(path: Path, obj: dict) -> None:
    """Sorted keys, indent 2, trailing newline -> byte-identical re-runs."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """Fixed float format and line endings -> byte-identical re-runs."""
    df.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")


# The encoded features the XGBoost model and propensity-v1-encoded read: what the pipeline's feature
# transformer (propensity-features, an MLServer custom runtime) produces. One definition, the
# transformer's own (propensity-features/encoding.py): one-hot channel and region, log basket value.
sys.path.insert(0, str(Path(__file__).resolve().parent / "propensity-features"))
from encoding import CHANNELS as _ENC_CHANNELS, REGIONS as _ENC_REGIONS  # noqa: E402
from encoding import ENCODED_FEATURES, encode_features  # noqa: E402,F401

assert _ENC_CHANNELS == CHANNELS and _ENC_REGIONS == REGIONS, "encoding.py's categories differ"


def train_v1_encoded(out: Path, X_train, y_train, X_test, y_test) -> dict:
    """``propensity-v1-encoded``: v1 behind the feature transformer. The same model as v1 (scaled
    LogisticRegression on age, tenure_months and basket value) on the transformer's 12 FP32
    columns, of which it reads age, tenure_months and log_basket_value (columns 0, 1, 3)."""
    pre = ColumnTransformer([("num", StandardScaler(), [0, 1, 3])], remainder="drop")
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000, random_state=SEED))])
    model.fit(encode_features(X_train), y_train)
    folder = out / "propensity-v1-encoded"
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib", compress=3)
    write_json(
        folder / "model-settings.json",
        {
            "name": "propensity-v1-encoded",
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib", "version": "v1-encoded"},
        },
    )
    return evaluate(y_test, model.predict_proba(encode_features(X_test))[:, 1])


def train_xgb(out: Path, X_train, y_train, X_test, y_test) -> dict:
    """``propensity-xgb``: a small XGBoost classifier on the encoded features, served by
    MLServer's XGBoost runtime (``mlserver_xgboost.XGBoostModel``, one FP32 tensor in)."""
    import xgboost  # xgboost-cpu (requirements.txt), imported here so v1-v3 need no XGBoost

    model = xgboost.XGBClassifier(
        n_estimators=40,
        max_depth=3,
        learning_rate=0.15,
        tree_method="hist",
        n_jobs=1,
        random_state=SEED,
    ).fit(encode_features(X_train), y_train)
    folder = out / "propensity-xgb"
    folder.mkdir(parents=True, exist_ok=True)
    model.save_model(folder / "model.ubj")
    write_json(
        folder / "model-settings.json",
        {
            "name": "propensity-xgb",
            "implementation": "mlserver_xgboost.XGBoostModel",
            "parameters": {"uri": "./model.ubj", "version": "xgb"},
        },
    )
    return evaluate(y_test, model.predict_proba(encode_features(X_test))[:, 1])


def write_detector(out: Path) -> None:
    """Saves the sample KSDrift detector (alibi-detect's save_detector format) under ``out``.

    Its reference data is the numeric features of data/reference.csv, as float32 in the order of
    NUMERIC_FEATURES: the columns the experiment's ``features`` list names. KSDrift is numpy and
    scipy only, so neither TensorFlow nor PyTorch is needed to save or to serve it.
    """
    from alibi_detect.cd import KSDrift  # only in the detector environment (numpy < 2)
    from alibi_detect.saving import save_detector

    reference = pd.read_csv(out / "data" / "reference.csv")
    x_ref = reference[NUMERIC_FEATURES].to_numpy(dtype=np.float32)
    detector = KSDrift(x_ref, p_val=DETECTOR_P_VAL, correction="bonferroni")
    save_detector(detector, out / DETECTOR_DIR)
    print(f"wrote {DETECTOR_DIR} (KSDrift, {x_ref.shape[0]} reference rows x {x_ref.shape[1]} features)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output folder (default: the folder of this script)",
    )
    parser.add_argument(
        "--detector-python",
        help="Python of an environment with alibi-detect, to save the sample detector with",
    )
    parser.add_argument(
        "--detector-only",
        action="store_true",
        help="only save the sample detector from the data already written under --out",
    )
    args = parser.parse_args()
    out: Path = args.out.resolve()
    if args.detector_only:
        write_detector(out)
        return

    # Single-threaded native code: HistGradientBoosting's OpenMP loops are
    # painfully slow on small, busy machines, and one thread also rules out
    # any thread-count dependence of the results.
    threadpool_limits(limits=1)

    rng = np.random.default_rng(SEED)
    df = generate_customers(N_TRAIN + N_TRAFFIC, rng)
    # user ids are assigned before the split so they are unique overall
    df.insert(0, "user_id", [f"u-{i:06d}" for i in range(1, len(df) + 1)])

    # rows are i.i.d., so a positional split is a valid random split
    train = df.iloc[:N_TRAIN].reset_index(drop=True)
    traffic = df.iloc[N_TRAIN:].reset_index(drop=True)
    reference = train.sample(n=N_REFERENCE, random_state=SEED).sort_index()

    # ---- data files -----------------------------------------------------
    (out / "data").mkdir(parents=True, exist_ok=True)
    write_csv(out / "data" / "reference.csv", reference[FEATURES])
    write_csv(out / "data" / "traffic.csv", traffic[TRAFFIC_COLUMNS])
    # The drift reference of what the pipeline's models receive (drift.modelInput): the reference
    # rows through the transformer's encoding, with 7 significant digits (FP32 holds about that).
    encoded = pd.DataFrame(encode_features(reference[FEATURES]), columns=ENCODED_FEATURES)
    encoded.to_csv(out / "data" / "reference-features.csv", index=False, float_format="%.7g", lineterminator="\n")

    # ---- models -----------------------------------------------------------
    X_train, y_train = train[FEATURES], train[LABEL].to_numpy()
    X_test, y_test = traffic[FEATURES], traffic[LABEL].to_numpy()

    metrics: dict = {
        "dataset": {
            "n_train": N_TRAIN,
            "n_traffic": N_TRAFFIC,
            "train_conversion_rate": round(float(y_train.mean()), 4),
            "traffic_conversion_rate": round(float(y_test.mean()), 4),
            "threshold": THRESHOLD,
        },
        "models": {},
    }
    labels = {}
    for version, build in MODELS.items():
        name = f"propensity-{version}"
        model = build().fit(X_train, y_train)

        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, folder / "model.joblib", compress=3)
        write_json(
            folder / "model-settings.json",
            {
                "name": name,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": version},
            },
        )

        proba = model.predict_proba(X_test)[:, 1]
        labels[version] = model.predict(X_test)
        metrics["models"][name] = evaluate(y_test, proba)

    metrics["models"]["propensity-xgb"] = train_xgb(out, X_train, y_train, X_test, y_test)
    metrics["models"]["propensity-v1-encoded"] = train_v1_encoded(out, X_train, y_train, X_test, y_test)

    metrics["agreement_v1_v3"] = round(float((labels["v1"] == labels["v3"]).mean()), 4)
    write_json(out / "metrics.json", metrics)

    # ---- report -----------------------------------------------------------
    ds = metrics["dataset"]
    print(f"wrote artifacts to {out}")
    print(
        f"train rows={ds['n_train']} (conversion {ds['train_conversion_rate']:.1%}), "
        f"traffic rows={ds['n_traffic']} (conversion {ds['traffic_conversion_rate']:.1%})"
    )
    print(f"{'model':<15} {'roc_auc':>8} {'prec@0.5':>9} {'rec@0.5':>8} {'pos_rate':>9} {'prec@top10%':>12}")
    for name, m in metrics["models"].items():
        print(
            f"{name:<15} {m['roc_auc']:>8.4f} {m['precision']:>9.4f} {m['recall']:>8.4f} "
            f"{m['positive_rate']:>9.4f} {m['precision_at_top10pct']:>12.4f}"
        )
    print(f"v1/v3 label agreement on traffic: {metrics['agreement_v1_v3']:.4f}")

    # ---- the sample drift detector (its own environment) --------------------
    if args.detector_python:
        subprocess.run(
            [args.detector_python, str(Path(__file__).resolve()), "--detector-only", "--out", str(out)],
            check=True,
        )
    else:
        print(
            f"left {DETECTOR_DIR} as it is: pass --detector-python with the Python of an environment"
            " that has alibi-detect (bash tools/install-alibi-detect.sh makes one) to rewrite it"
        )


if __name__ == "__main__":
    main()
