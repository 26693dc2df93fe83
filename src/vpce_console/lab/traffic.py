"""Background traffic: personas call their services continually, so a restrictive change makes denials flow."""

from __future__ import annotations

import contextlib
import random
import threading
from typing import Any

from vpce_console.lab.world import World
from vpce_console.readyfile import LabPersona


class TrafficGenerator:
    """Calls through the lab's own HTTP endpoint with persona keys, `rate` calls per second in total."""

    def __init__(self, world: World, endpoint_url: str, rate: float, *, seed: int = 0) -> None:
        self.world = world
        self.endpoint_url = endpoint_url
        self.rate = rate
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self.calls = 0
        self._clients: dict[tuple[str, str], Any] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run in a daemon thread until stop()."""
        if self.rate <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="lab-traffic", daemon=True)
        self._thread.start()

    def set_rate(self, rate: float) -> None:
        """Change the rate at run time (0 pauses); starts the thread if it was never started."""
        self.rate = max(0.0, rate)
        if self.rate > 0 and (self._thread is None or not self._thread.is_alive()):
            self.stop_event.clear()
            self.start()

    def stop(self) -> None:
        """Stop and wait briefly for the thread."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def _client(self, persona: LabPersona, service: str) -> Any:
        key = (persona.access_key_id, service)
        if key not in self._clients:
            import boto3
            from botocore.config import Config

            self._clients[key] = boto3.client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.world.region,
                aws_access_key_id=persona.access_key_id,
                aws_secret_access_key=persona.secret_access_key,
                config=Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
            )
        return self._clients[key]

    def call_once(self, persona: LabPersona, service: str) -> None:
        """One representative call of `service` by `persona` against its own account's seeded targets."""
        account = persona.persona.account_id
        env = self.world.target_env.get(account, "dev")
        c = self._client(persona, service)
        if service == "sqs":
            url = f"{self.endpoint_url}/{account}/orders-{env}"
            c.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        elif service == "kms":
            c.describe_key(KeyId=f"alias/{env}-data")
        elif service == "sts":
            c.get_caller_identity()
        elif service == "secretsmanager":
            c.get_secret_value(SecretId=f"app/{env}/db")
        elif service == "ssm":
            c.get_parameter(Name=f"/app/{env}/feature-flags")
        elif service == "logs":
            c.describe_log_streams(logGroupName=f"/app/{env}", limit=5)

    def _run(self) -> None:
        personas = [p for p in self.world.personas if p.persona.kind != "aws-service" and p.persona.vpc_id]
        if not personas:
            return
        while not self.stop_event.wait(1.0 / self.rate if self.rate > 0 else 0.5):
            if self.rate <= 0:
                continue
            persona = self.rng.choice(personas)
            service = self.rng.choice(persona.services)
            with contextlib.suppress(Exception):  # denials and injected faults are the point; keep going
                self.call_once(persona, service)
            self.calls += 1
