# A small mmpose top-down pose estimator for the synthetic world, trainable from scratch on 2 CPU cores in a
# few minutes (stage1_2d/mmpose_topdown.py). mmpose-style: ``model`` is built by mmpose's MODELS registry,
# ``codec`` by KEYPOINT_CODECS; ``input_size`` is the crop (w, h) fed to the network.
#
# Architecture: a narrow CSPNeXt backbone (the RTMPose backbone, Jiang et al. 2023, here at widen 0.25 /
# deepen 0.167 and cut after stage 3, stride 16) with a SimpleBaseline heatmap head (Xiao et al. 2018: one
# deconvolution to stride 8) and MSRA Gaussian heatmaps. See the module's docstring for the measurements
# behind this choice.
input_size = (128, 128)

codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=(32, 32), sigma=2.0, unbiased=True)

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
        type='HeatmapHead',
        in_channels=128,
        out_channels=17,
        deconv_out_channels=(64, 64),
        deconv_kernel_sizes=(4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=True))
