# A small mmpose top-down pose estimator for the synthetic world, trained from scratch on 2 CPU cores in a few
# minutes by stage1_2d/mmpose_topdown.py. mmpose-style: ``model`` is built by mmpose's MODELS registry, ``codec``
# by KEYPOINT_CODECS; ``input_size`` is the crop (w, h) fed to the network.
#
# RTMPose's recipe (Jiang et al. 2023, "RTMPose: Real-Time Multi-Person Pose Estimation based on MMPose"),
# shrunk: a CSPNeXt backbone at widen 0.25 / deepen 0.167 (RTMPose-t uses 0.375) cut after stage 3 (stride 16,
# an 8 x 8 map for a 128 x 128 crop) and an RTMCC head (a 7 x 7 conv to one map per joint, a fully connected
# layer over the whole map, a gated attention unit across joints) that classifies x and y separately into
# half-pixel bins (SimCC, Li et al. 2022) with a KL loss. 1.3 M parameters. Measured against a SimpleBaseline
# heatmap head (Xiao et al. 2018) on the same backbone, and against 96 x 128 crops: see the module docstring.
input_size = (128, 128)
stride = 16

codec = dict(
    type='SimCCLabel',
    input_size=input_size,
    sigma=(3.3, 3.3),
    simcc_split_ratio=2.0,
    normalize=False,
    use_dark=False)

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='CSPNeXt',
        arch='P5',
        expand_ratio=0.5,
        deepen_factor=0.167,
        widen_factor=0.25,
        out_indices=(3, ),
        channel_attention=True,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='SiLU')),
    head=dict(
        type='RTMCCHead',
        in_channels=128,  # CSPNeXt stage 3 at widen 0.25
        out_channels=17,  # h36m17
        input_size=input_size,
        in_featuremap_size=tuple(s // stride for s in input_size),
        simcc_split_ratio=codec['simcc_split_ratio'],
        final_layer_kernel_size=7,
        gau_cfg=dict(
            hidden_dims=128,
            s=64,
            expansion_factor=2,
            dropout_rate=0.,
            drop_path=0.,
            act_fn='SiLU',
            use_rel_bias=False,
            pos_enc=False),
        loss=dict(type='KLDiscretLoss', use_target_weight=True, beta=10., label_softmax=True),
        decoder=codec),
    test_cfg=dict(flip_test=True))
