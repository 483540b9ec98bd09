import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenbot.errors import ConfigError
from krakenbot.kraken.signing import Signer, encode_form, param_text, sign

DATA = Path(__file__).parents[2] / "data"

VECTORS = json.loads((DATA / "rest" / "rest_sign.json").read_text())["vectors"]


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_sign_reproduces_krakens_documented_vector(v: dict[str, str]) -> None:
    got = sign(v["uri_path"], int(v["nonce"]), v["encoded_payload"], v["private_key"])
    assert got == v["api_sign"]
    signer = Signer(v["private_key"])
    assert signer.sign(v["uri_path"], int(v["nonce"]), v["encoded_payload"]) == v["api_sign"]
    # A reused signer gives the same answer (its keyed state is copied, not consumed).
    assert signer.sign(v["uri_path"], int(v["nonce"]), v["encoded_payload"]) == v["api_sign"]


def test_signature_depends_on_every_input() -> None:
    v = VECTORS[0]
    base = sign(v["uri_path"], int(v["nonce"]), v["encoded_payload"], v["private_key"])
    assert (
        sign("/0/private/Balance", int(v["nonce"]), v["encoded_payload"], v["private_key"]) != base
    )
    assert sign(v["uri_path"], int(v["nonce"]) + 1, v["encoded_payload"], v["private_key"]) != base
    assert (
        sign(v["uri_path"], int(v["nonce"]), v["encoded_payload"] + "&x=1", v["private_key"])
        != base
    )


def test_secret_never_in_repr_or_error() -> None:
    secret = VECTORS[0]["private_key"]
    assert secret not in repr(Signer(secret))
    with pytest.raises(ConfigError) as info:
        Signer("not base64 !!!")
    assert "not base64 !!!" not in str(info.value)


def test_form_body_matches_the_documented_payload() -> None:
    body = encode_form(
        1616492376594,
        {
            "ordertype": "limit",
            "pair": "XBTUSD",
            "price": Decimal("37500"),
            "type": "buy",
            "volume": Decimal("1.25"),
        },
    )
    assert body == VECTORS[0]["encoded_payload"]


def test_param_text_never_uses_exponents() -> None:
    assert param_text(Decimal("1E+1")) == "10"
    assert param_text(Decimal("0.00000010")) == "0.00000010"
    assert param_text(True) == "true"
    with pytest.raises(ValueError):
        param_text(Decimal("NaN"))
    with pytest.raises(ValueError):
        encode_form(1, {"nonce": 2})


@given(st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=0, max_value=10**9))
def test_param_text_round_trips_exactly(d: Decimal) -> None:
    assert Decimal(param_text(d)) == d
    assert "E" not in param_text(d)


@given(
    st.dictionaries(
        st.text(min_size=1).filter(lambda k: k != "nonce"),
        st.one_of(
            st.text(),
            st.integers(),
            st.booleans(),
            st.decimals(allow_nan=False, allow_infinity=False),
        ),
        max_size=6,
    )
)
def test_form_body_is_what_urlencode_gives(params: dict[str, object]) -> None:
    # The fast paths (names checked once, numbers never quoted, RFC3339 colons replaced)
    # must give byte for byte what the standard library's encoder gives.
    expected = urlencode([("nonce", 7)] + [(k, param_text(v)) for k, v in params.items()])
    assert encode_form(7, params) == expected  # type: ignore[arg-type]
