"""What happens to one trial: genome → cache, reuse or training → measurements.

``objective`` (the callable every sampler drives, the training index and measurement pool),
``records`` (the trial record: every attr's name and meaning), ``budget`` (the hard cost
budget) and ``flops`` (MACs and parameters with thop).
"""
