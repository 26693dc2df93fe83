"""Where endpoint policies live, for `vpce lint`: plain policy files, directories, CloudFormation templates,
Terraform plans and `aws ec2 describe-vpc-endpoints` output, detected by content.

This is the I/O side of linting (reading files, detecting formats); `policy/` stays pure and only ever sees
one policy text at a time. Each reader returns `PolicySource`s: the policy text, what it is called in its
file (logical id, resource address, endpoint id), the service the source names, and how to map a finding's
JSON path back to a line of the file.
"""

from __future__ import annotations

from vpce_console.lintinputs.sources import PolicySource, read_sources
from vpce_console.lintinputs.walk import expand_paths

__all__ = ["PolicySource", "expand_paths", "read_sources"]
