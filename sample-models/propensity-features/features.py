"""The feature transformer of the propensity pipeline (experiments/propensity-pipeline.yaml): an
MLServer custom runtime. The six raw columns in (MLServer's pandas codec), one FP32 tensor
`features` of shape [n, 12] out: age, tenure_months, sessions_30d, log1p(basket_value), then
one-hot channel and region (encoding.py)."""
from mlserver import MLModel
from mlserver.codecs import NumpyCodec, PandasCodec
from mlserver.types import InferenceRequest, InferenceResponse

from encoding import encode_features


class FeatureTransformer(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        features = encode_features(PandasCodec.decode_request(payload))
        return InferenceResponse(
            model_name=self.name,
            outputs=[NumpyCodec.encode_output("features", features)],
        )
