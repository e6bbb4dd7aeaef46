"""transformers checkpoints loaded under ModelParallel 2x4 match transformers' own outputs
(random weights written by save_pretrained; tests/models/bert/make_references.py)."""
import os

import numpy as np

from tests.distribution.conftest import needs_8_devices
from tests.models.bert.conftest import references  # noqa: F401  (the session fixture)

pytestmark = needs_8_devices


def test_bert_checkpoint_under_model_parallel_matches_transformers(references):  # noqa: F811
    from zoo import distribution
    from zoo.models import BertBackbone, BertMaskedLM

    directory = os.path.join(references, "small")  # vocabulary 97: split by hidden (32)
    with np.load(os.path.join(directory, "reference.npz"), allow_pickle=False) as stored:
        ref = dict(stored)
    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    with distribution.ModelParallel(BertBackbone.get_layout_map(mesh)).scope():
        masked_lm = BertMaskedLM.from_preset(os.path.join(directory, "pretraining"))
    embedding = masked_lm.backbone.token_embedding.embeddings
    assert tuple(embedding.value.sharding.spec) == (None, "model")
    assert {s.data.shape for s in embedding.value.addressable_shards} == {(97, 8)}
    x = {k: ref[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    logits = masked_lm.predict({**x, "mask_positions": ref["mask_positions"]}, verbose=0)
    np.testing.assert_allclose(logits, ref["mlm_logits"], atol=1e-5, rtol=1e-5)
    outputs = masked_lm.backbone.predict(x, verbose=0)
    np.testing.assert_allclose(outputs["sequence_output"], ref["sequence_output"], atol=1e-5,
                               rtol=1e-5)
