"""Process & Socket Lab: the engine (launcher, sampler, experiments) and its thin web layer."""
