"""TON settings: the proof domain follows PUBLIC_BASE_URL, the merchant address and the
platform mnemonic are checked at start-up, and the mnemonic never shows."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError
from pytoniq_core.crypto.keys import mnemonic_new

from core.settings import Settings, TonNetwork


def test_proof_domain_defaults_to_the_public_host() -> None:
    assert Settings(
        _env_file=None, public_base_url="https://app.example"
    ).ton_proof_domain_value == ("app.example")
    dev = Settings(_env_file=None, public_base_url="http://127.0.0.1:8000/")
    assert dev.ton_proof_domain_value == "127.0.0.1:8000"
    pinned = Settings(_env_file=None, ton_proof_domain="Pay.Example", public_base_url="https://x")
    assert pinned.ton_proof_domain_value == "pay.example"


def test_network_is_mainnet_or_testnet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_TON_NETWORK", "testnet")
    settings = Settings(_env_file=None)
    assert settings.ton_network is TonNetwork.TESTNET and settings.ton_network.global_id == -3
    with pytest.raises(ValidationError, match="ton_network"):
        Settings(_env_file=None, ton_network="devnet")


def test_merchant_address_is_checked() -> None:
    ok = "UQBP4mzpDIywL1SV-Wp9ZuBBlzprR9eXQgSYGEXiUEHm73vA"
    assert Settings(_env_file=None, ton_merchant_address=ok).ton_merchant_address == ok
    assert Settings(_env_file=None, ton_merchant_address="").ton_merchant_address is None
    with pytest.raises(ValidationError, match="ATELIER_TON_MERCHANT_ADDRESS"):
        Settings(
            _env_file=None, ton_merchant_address="UQBP4mzpDIywL1SV-Wp9ZuBBlzprR9eXQgSYGEXiUEHm73vB"
        )


def test_platform_mnemonic_is_a_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    words = " ".join(mnemonic_new(24))
    monkeypatch.setenv("ATELIER_TON_PLATFORM_MNEMONIC", words)
    settings = Settings(_env_file=None)
    assert settings.ton_platform_mnemonic is not None
    assert settings.ton_platform_mnemonic.get_secret_value() == words
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("atelier.test").info("settings: %s %r", settings, settings)
    for shown in (str(settings), repr(settings), settings.model_dump_json(), caplog.text):
        assert words.split()[0] + " " + words.split()[1] not in shown

    wrong = " ".join([*words.split()[:23], "abandon"])
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, ton_platform_mnemonic=wrong)
    assert "ATELIER_TON_PLATFORM_MNEMONIC" in str(refused.value)
    assert wrong not in str(refused.value) and words.split()[2] not in str(refused.value)


def test_blank_secrets_are_unset() -> None:
    settings = Settings(_env_file=None, ton_api_key="", ton_platform_mnemonic="  ")
    assert settings.ton_api_key is None and settings.ton_platform_mnemonic is None
