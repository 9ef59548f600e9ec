"""A tiny mmpose top-down model config (64 x 64 input, an RTMPose-style head) that builds and trains in
seconds offline: shared by the detector tests."""

TINY_CONFIG = """
input_size = (64, 64)
codec = dict(type='SimCCLabel', input_size=input_size, sigma=(2.0, 2.0), simcc_split_ratio=2.0, normalize=False)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='CSPNeXt', arch='P5', expand_ratio=0.5, deepen_factor=0.167, widen_factor=0.125,
                  out_indices=(3, ), channel_attention=True, norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU')),
    head=dict(type='RTMCCHead', in_channels=64, out_channels=17, input_size=input_size, in_featuremap_size=(4, 4),
              simcc_split_ratio=2.0, final_layer_kernel_size=5,
              gau_cfg=dict(hidden_dims=64, s=32, expansion_factor=2, dropout_rate=0., drop_path=0., act_fn='SiLU',
                           use_rel_bias=False, pos_enc=False),
              loss=dict(type='KLDiscretLoss', use_target_weight=True, beta=10., label_softmax=True),
              decoder=codec),
    test_cfg=dict(flip_test=True))
"""
