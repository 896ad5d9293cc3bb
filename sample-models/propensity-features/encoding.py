"""The feature encoding of the propensity pipeline, in one place: the transformer step
(features.py) serves it and train.py trains the encoded models on it. numpy and pandas only."""
import numpy as np
import pandas as pd

CHANNELS = ["web", "app", "email", "store"]
REGIONS = ["north", "south", "east", "west"]

# The encoded features, in column order: one-hot channel and region, log basket value.
ENCODED_FEATURES = [
    "age",
    "tenure_months",
    "sessions_30d",
    "log_basket_value",
    *[f"channel_{c}" for c in CHANNELS],
    *[f"region_{r}" for r in REGIONS],
]


def encode_features(df: pd.DataFrame) -> np.ndarray:
    """The six raw columns as the 12 FP32 columns of ENCODED_FEATURES."""
    cols = [
        df["age"].to_numpy(np.float64),
        df["tenure_months"].to_numpy(np.float64),
        df["sessions_30d"].to_numpy(np.float64),
        np.log1p(df["basket_value"].to_numpy(np.float64)),
        *[(df["channel"] == c).to_numpy(np.float64) for c in CHANNELS],
        *[(df["region"] == r).to_numpy(np.float64) for r in REGIONS],
    ]
    return np.column_stack(cols).astype(np.float32)
