"""Settings refuse what would be unsafe to run with, and keep the local JWT secret private. No Ray, no Redis."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from config import load_settings
from config.settings import PRODUCTION_SECRET_MIN_BYTES, SettingsError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_production_refuses_a_short_jwt_secret_and_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(env="production", data_dir=tmp_path, jwt_secret="s" * (PRODUCTION_SECRET_MIN_BYTES - 1))
    assert "BAZAAR_JWT_SECRET" in str(refused.value.code) and "32 bytes" in str(refused.value.code)


def test_production_accepts_a_long_enough_secret_and_development_any(tmp_path: Path) -> None:
    strong = load_settings(env="production", data_dir=tmp_path, jwt_secret="s" * PRODUCTION_SECRET_MIN_BYTES)
    assert strong.jwt_key() == "s" * PRODUCTION_SECRET_MIN_BYTES
    assert load_settings(env="local", data_dir=tmp_path, jwt_secret="short").jwt_key() == "short"


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(env="production", data_dir=tmp_path)
    assert "BAZAAR_JWT_SECRET must be set" in str(refused.value.code)
    assert "BAZAAR_: " not in str(refused.value.code)  # a rule across fields names its variables itself
    assert not (tmp_path / "secrets").exists()


def test_the_local_secret_is_made_private_and_kept(tmp_path: Path) -> None:
    first = load_settings(env="local", data_dir=tmp_path)
    secret_file = tmp_path / "secrets" / "jwt_secret"
    assert mode(secret_file) == 0o600 and mode(secret_file.parent) == 0o700
    assert len(first.jwt_key()) >= PRODUCTION_SECRET_MIN_BYTES
    assert load_settings(env="local", data_dir=tmp_path).jwt_key() == first.jwt_key()
    assert [p.name for p in secret_file.parent.iterdir()] == ["jwt_secret"]  # no draft left behind


def test_a_secrets_folder_made_with_a_loose_mode_is_closed(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir(mode=0o755)
    load_settings(env="local", data_dir=tmp_path)
    assert mode(tmp_path / "secrets") == 0o700


def test_an_empty_secret_file_is_refused_rather_than_signing_with_nothing(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "jwt_secret").write_text("\n")
    with pytest.raises(SettingsError, match="is empty"):
        load_settings(env="local", data_dir=tmp_path)


def test_mail_is_printed_in_local_development_sent_by_smtp_elsewhere_and_never_printed_in_production(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from actors.senders import MailSender
    from domain.deliveries import Delivery

    local = load_settings(env="local", data_dir=tmp_path, jwt_secret="short")
    assert local.mail_via == "console"
    assert load_settings(env="test", data_dir=tmp_path, jwt_secret="short").mail_via == "smtp"
    assert load_settings(env="local", data_dir=tmp_path, jwt_secret="short", mail_transport="smtp").mail_via == "smtp"
    with pytest.raises(SettingsError) as refused:
        load_settings(env="production", data_dir=tmp_path, jwt_secret="s" * PRODUCTION_SECRET_MIN_BYTES,
                      mail_transport="console")
    assert "BAZAAR_MAIL_TRANSPORT" in str(refused.value.code)

    mail = Delivery("dlv_1", "mail", "ada@example.com", "order_confirmed", "Order BZ-100001 confirmed", "Thanks!", 0.0)
    outcomes = asyncio.run(MailSender(local).send([mail]))  # no SMTP server anywhere: printed, and counted as sent
    assert [o.ok for o in outcomes] == [True]
    printed = capsys.readouterr().out
    assert "mail to ada@example.com: Order BZ-100001 confirmed" in printed and "Thanks!" in printed


def test_the_ray_we_start_gets_serves_control_loop_period_and_metrics_choice(tmp_path: Path) -> None:
    from serve.main import local_ray_environment

    default = local_ray_environment(load_settings(data_dir=tmp_path))
    assert default["RAY_SERVE_CONTROL_LOOP_INTERVAL_S"] == "0.5"
    assert default["RAY_enable_metrics_collection"] == "0"
    chosen = local_ray_environment(load_settings(data_dir=tmp_path, serve_control_loop_seconds=0.1, ray_metrics=True))
    assert (chosen["RAY_SERVE_CONTROL_LOOP_INTERVAL_S"], chosen["RAY_enable_metrics_collection"]) == ("0.1", "1")


def test_ray_runs_the_shops_workers_at_niceness_0_locally_and_on_every_cluster_node(tmp_path: Path) -> None:
    """Ray starts its workers at 15 unless told (tests/integration/test_worker_niceness.py checks the processes)."""
    from serve.main import local_ray_environment

    assert local_ray_environment(load_settings(data_dir=tmp_path))["RAY_worker_niceness"] == "0"
    cluster = (Path(__file__).parents[2] / "cluster.yaml").read_text()
    starts = [line for line in cluster.splitlines() if "ray start" in line and not line.lstrip().startswith("#")]
    assert len(starts) == 2 and all("export RAY_worker_niceness=0 " in line for line in starts), starts
