"""What the pinned Collector accepts, modelled on each component's own config decoder.

``config`` checks a whole document (``validate_collector_config``); ``registry`` maps component types to their
models; ``core``/``contrib``/``net``/``tailsampling`` are the component models; ``service`` the pipelines;
``schema`` the small schema language the models are written in (mirroring confmap and mapstructure).
"""
