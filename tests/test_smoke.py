from __future__ import annotations

from flask.testing import FlaskClient


def test_first_screen_asks_for_the_language(client: FlaskClient) -> None:
    response = client.post(
        "/ussd/africastalking",
        data={
            "sessionId": "ATUid_x",
            "serviceCode": "*384*1#",
            "phoneNumber": "+243812345678",
            "networkCode": "63001",
            "text": "",
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("CON Lugha / Langue / Language\n1 Kiswahili")
