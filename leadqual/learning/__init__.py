"""Learning rule changes that hold up: conditional effects, strata evidence, holdout validation.

Pure (numpy only). `hits` is the shape everything reads (a bit-packed hit matrix of decided
leads); `effects` fits every rule together; `points` turns effects into point changes as a
scorecard does; `strata` is the evidence a manager can check by hand; `rescore` regroups leads
under changed points and thresholds; `holdout` validates on the most recent weeks; `learn`
runs the whole loop.
"""
