"""fit / evaluate / predict / generate under DataParallel and ModelParallel (2x4 mesh)
match one device to 1e-5, on BERT and OPT."""
import numpy as np
import pytest

from tests.distribution.conftest import MODELS, needs_8_devices, weights_of

pytestmark = needs_8_devices


def distributions(name="opt"):
    from zoo import distribution
    from zoo.models.bert.backbone import BertBackbone
    from zoo.models.opt.backbone import OPTBackbone

    backbone = {"bert": BertBackbone, "opt": OPTBackbone}[name]
    mesh = distribution.DeviceMesh((2, 4), ("batch", "model"))
    return {"data_parallel": distribution.DataParallel(),
            "model_parallel_2x4": distribution.ModelParallel(backbone.get_layout_map(mesh))}


@pytest.fixture(scope="module", params=sorted(MODELS))
def single_device_run(request):
    make, data = MODELS[request.param]
    model = make()
    initial = weights_of(model)
    x, y = data()
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return {"name": request.param, "initial": initial, "history": history.history,
            "weights": weights_of(model), "loss": model.evaluate(x, y, verbose=0),
            "predictions": model.predict(x, batch_size=8, verbose=0)}


@pytest.mark.parametrize("strategy", ["data_parallel", "model_parallel_2x4"])
def test_fit_matches_one_device(single_device_run, strategy):
    make, data = MODELS[single_device_run["name"]]
    x, y = data()
    with distributions(single_device_run["name"])[strategy].scope():
        model = make(single_device_run["initial"])
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], single_device_run["history"]["loss"],
                               atol=1e-5, rtol=0)
    for variable, expected in zip(model.variables, single_device_run["weights"]):
        np.testing.assert_allclose(variable.numpy(), expected, atol=1e-5, rtol=0,
                                   err_msg=variable.path)
    assert model._train_step_cache_size() == 1  # one compile for both epochs
    # evaluate / predict after fit, outside the scope: the model's own distribution
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), single_device_run["loss"],
                               atol=1e-5, rtol=0)
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0),
                               single_device_run["predictions"], atol=1e-5, rtol=0)


def test_a_last_batch_that_does_not_divide_is_replicated():
    make, data = MODELS["opt"]
    x, y = data(n=12)  # batches of 8 and 4: the 4 rows do not split over 8 devices
    reference = make()
    initial = weights_of(reference)
    expected = reference.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    with distributions()["data_parallel"].scope():
        model = make(initial)
        history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], atol=1e-5)


def test_generate_under_model_parallel_matches_one_device():
    make, _ = MODELS["opt"]
    reference = make()
    initial = weights_of(reference)
    prompts = {"token_ids": np.array([[2, 5, 6, 7, 0, 0], [2, 9, 9, 3, 4, 1]], "int32"),
               "padding_mask": np.array([[1, 1, 1, 1, 0, 0], [1] * 6], "int32")}
    expected = reference.generate(prompts, max_length=24)
    with distributions()["model_parallel_2x4"].scope():
        model = make(initial)
    tokens = model.generate(prompts, max_length=24)
    np.testing.assert_array_equal(tokens["token_ids"], expected["token_ids"])
    guessed = model.generate(prompts, max_length=24, prompt_lookup_num_tokens=4)
    np.testing.assert_array_equal(guessed["token_ids"], expected["token_ids"])
    kernel = next(v for v in model.variables if v.path.endswith("query/kernel"))
    assert tuple(kernel.value.sharding.spec) == (None, "model", None)  # still sharded


def test_lora_fit_under_model_parallel_matches_one_device():
    make, data = MODELS["opt"]
    x, y = data()

    def lora_run(strategy=None):
        import contextlib

        with strategy.scope() if strategy else contextlib.nullcontext():
            model = make()
            model.backbone.enable_lora(2)
            model.compile(optimizer="adam", loss=model.loss)
            model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        return model

    expected = lora_run()
    model = lora_run(distributions()["model_parallel_2x4"])
    assert len(model.trainable_variables) == len(expected.trainable_variables) > 0
    for variable, reference in zip(model.variables, expected.variables):
        np.testing.assert_allclose(variable.numpy(), reference.numpy(), atol=1e-5, rtol=0,
                                   err_msg=variable.path)
