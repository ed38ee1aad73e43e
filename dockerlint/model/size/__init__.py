"""The bill of bytes: what each image weighs, part by part, and what each fix saves.

- ``bill_of_bytes(image)``: the parts of the final image (``bill.py``), each with a figure
  (bytes, range, source) from ``figures.py`` or none when nothing sizes it;
- ``compute_savings(image, findings)``: what fixing each finding saves, the fixes applied
  to the model one after another (``savings.py``).
"""

from dockerlint.model.size.bill import Bill, Overrides, Part, bill_of_bytes
from dockerlint.model.size.figures import Figure, python_closure, python_package_bytes, python_requires
from dockerlint.model.size.savings import Saving, Savings, compute_savings

__all__ = [
    "Bill",
    "Figure",
    "Overrides",
    "Part",
    "Saving",
    "Savings",
    "bill_of_bytes",
    "compute_savings",
    "python_closure",
    "python_package_bytes",
    "python_requires",
]
