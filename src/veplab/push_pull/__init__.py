"""The push/pull analysis (``notebooks/push_pull.ipynb``): what the study's design asks for,
built from the general statistics in :mod:`veplab.descriptives`, :mod:`veplab.models`,
:mod:`veplab.missing` and :mod:`veplab.latent_classes`.

:mod:`veplab.push_pull.design` reads the study's declared sources, scales and breakdowns and
returns the tables and models the page shows; it names nothing of any one study.
"""
