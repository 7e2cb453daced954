"""vinread.model: the LiteRT glyph model's batches."""
import numpy as np

import vinread.model as model_module
from vinread.alphabet import NUM_CLASSES
from vinread.model import MAX_BATCH, GlyphModel


def test_a_large_batch_reads_in_parts_as_it_would_whole(tiny_model, monkeypatch):
    """More than MAX_BATCH glyphs are read in parts (bounded memory), each glyph as in one call."""
    m = GlyphModel(tiny_model)
    n = 2 * MAX_BATCH + 37
    x = np.random.default_rng(0).random((n, 28, 28)).astype(np.float32)
    probs, glyph = m.predict(x)
    assert probs.shape == (n, NUM_CLASSES) and glyph.shape == (n,)
    assert m._batch <= MAX_BATCH
    monkeypatch.setattr(model_module, "MAX_BATCH", n)
    whole_probs, whole_glyph = m.predict(x)
    assert m._batch == n
    np.testing.assert_allclose(probs, whole_probs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(glyph, whole_glyph, rtol=0, atol=1e-6)
    assert m.predict(x[:0])[0].shape == (0, NUM_CLASSES)
