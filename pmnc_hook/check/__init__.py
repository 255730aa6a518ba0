"""The static checker (``python -m pmnc_hook --check``): finds what breaks reloading."""
