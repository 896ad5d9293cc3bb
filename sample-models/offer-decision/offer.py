"""The post-processor of the propensity pipeline (experiments/propensity-pipeline.yaml): an
MLServer custom runtime that turns the model's score into the business decision. It reads the
model's `predict_proba` ([n, 2]) and answers `offer` (BOOL [n, 1]: the positive class's
probability is at least the threshold) and the `predict_proba` it read, unchanged, so the report's
model metrics and the simulator see the score. The threshold is `parameters.extra.threshold` in
model-settings.json."""
import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse, ResponseOutput


class OfferDecision(MLModel):
    async def load(self) -> bool:
        extra = (self.settings.parameters.extra if self.settings.parameters else None) or {}
        self.threshold = float(extra.get("threshold", 0.5))
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        request = next(i for i in payload.inputs if i.name == "predict_proba")
        proba = NumpyCodec.decode_input(request).astype(np.float64).reshape(-1, 2)
        offer = proba[:, 1:2] >= self.threshold
        return InferenceResponse(
            model_name=self.name,
            outputs=[
                ResponseOutput(
                    name="offer", shape=list(offer.shape), datatype="BOOL", data=offer.ravel().tolist()
                ),
                NumpyCodec.encode_output("predict_proba", proba),
            ],
        )
