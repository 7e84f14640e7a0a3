import pytest

from core import crypto


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    sealed = crypto.encrypt(token, secret_key="k" * 40)
    assert token not in sealed
    assert crypto.decrypt(sealed, secret_key="k" * 40) == token


def test_other_key_or_tampering_is_refused() -> None:
    sealed = crypto.encrypt("secret", secret_key="a" * 40)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, secret_key="b" * 40)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, secret_key="a" * 40)


def test_fingerprint_is_keyed_and_stable() -> None:
    assert crypto.fingerprint("v", secret_key="a" * 40) == crypto.fingerprint(
        "v", secret_key="a" * 40
    )
    assert crypto.fingerprint("v", secret_key="a" * 40) != crypto.fingerprint(
        "v", secret_key="b" * 40
    )
