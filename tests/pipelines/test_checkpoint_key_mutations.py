"""Mutation-proof checks of a part's checkpoint key (``pipelines/chain.py`` ``Chain.checkpoint_key``): the seed
and every training option of a lifter (``martinez_mlp``) and of a classifier (``pose_cnn``) change it; their
inference options (``inference_options``, e.g. the classifier's ``flip_test``) do not.

The options are read from each part's ``defaults`` when the tests are collected, so an option added later is
covered without editing this file (a string or container option needs a valid other value in
:data:`ALTERNATIVES`; without one its test is skipped, saying so)."""
import copy

import pytest

from common.registry import lookup
from pipelines.chain import Chain
from pipelines.config import STAGE_KINDS

PARTS = [("stage2_lift", "martinez_mlp"), ("stage3_action", "pose_cnn")]

#: another valid value for options that are not a bool or a number (the part is built with it)
ALTERNATIVES = {"input": "3d", "train_on": "chain", "encoder": "enhanced_spmf",
                "encoder_options": {"confidence_weight": False}}


def _cfg(stage, type_, seed=0, **changes):
    """A resolved pipeline config (the stage's options are its full defaults, as pipelines/config.py gives)."""
    cls = lookup(STAGE_KINDS[stage], type_)
    scfg = {"type": type_, **copy.deepcopy(cls.defaults), **changes}
    return {"seed": seed, "data": {"dataset": "synthetic"}, "stages": {stage: scfg}}


def _key(cfg, stage):
    return Chain(cfg, "cpu", log=lambda m: None).checkpoint_key(stage)


def _changed(option, value):
    """Another value of an option's type: bool -> not, int -> +1, float -> x2 (0 -> 1); else ALTERNATIVES."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 if value else 1.0
    if option in ALTERNATIVES:
        return ALTERNATIVES[option]
    # a string or container option: an arbitrary other value may not build, so it needs a valid alternative
    pytest.skip(f"option {option}={value!r}: no valid other value known (add one to ALTERNATIVES)")


def _options(kind_filter):
    out = []
    for stage, type_ in PARTS:
        cls = lookup(STAGE_KINDS[stage], type_)
        for option in cls.defaults:
            if (option in cls.inference_options) == kind_filter:
                out.append(pytest.param(stage, type_, option, id=f"{type_}-{option}"))
    return out


@pytest.mark.parametrize("stage,type_", PARTS, ids=[t for _, t in PARTS])
def test_seed_changes_the_key(stage, type_):
    a = _key(_cfg(stage, type_, seed=0), stage)
    assert _key(_cfg(stage, type_, seed=0), stage) == a  # the key is a function of the config
    assert _key(_cfg(stage, type_, seed=1), stage) != a


@pytest.mark.parametrize("stage,type_,option", _options(kind_filter=False))
def test_every_training_option_changes_the_key(stage, type_, option):
    cls = lookup(STAGE_KINDS[stage], type_)
    value = _changed(option, cls.defaults[option])
    assert value != cls.defaults[option]
    assert _key(_cfg(stage, type_, **{option: value}), stage) != _key(_cfg(stage, type_), stage)


@pytest.mark.parametrize("stage,type_,option", _options(kind_filter=True))
def test_inference_options_keep_the_key(stage, type_, option):
    cls = lookup(STAGE_KINDS[stage], type_)
    value = _changed(option, cls.defaults[option])
    assert value != cls.defaults[option]
    assert _key(_cfg(stage, type_, **{option: value}), stage) == _key(_cfg(stage, type_), stage)


def test_the_classifier_has_inference_options():
    """So that the test above is not empty: flip_test (and the open-set thresholds) change only inference."""
    assert {"flip_test", "unknown_threshold", "unknown_distance"} <= set(lookup("action", "pose_cnn").inference_options)
