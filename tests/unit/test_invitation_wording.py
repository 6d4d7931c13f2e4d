"""The invitation email speaks the inviting admin's language; its English is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

from sendtrail.i18n import speaking
from sendtrail.tenancy.invitation_email import invitation_wording

UNTIL = datetime(2030, 5, 3, 14, 5, tzinfo=UTC)


def test_the_english_invitation_reads_as_before() -> None:
    wording = invitation_wording(who="Ada & Co", inviter_address="ada@acme.test",
                                 invitee_name="Bea <B>", account="Acme <GmbH>",
                                 link="https://st.test/invitation#tok", expires_at=UNTIL)
    assert wording.subject == "Ada & Co invited you to Acme <GmbH> on Sendtrail"
    assert wording.text == (
        "Hello Bea <B>,\n\nAda & Co (ada@acme.test) invited you to join Acme <GmbH> on "
        "Sendtrail, where you see when the people you email open and click.\n\n"
        "Choose your password and sign in here (the link works once, until May 3, 2030 at "
        "14:05 UTC):\nhttps://st.test/invitation#tok\n\nIf you did not expect this "
        "invitation, ignore this email: nothing happens until the link is used.\n"
    )
    assert wording.html == (
        "<p>Hello Bea &lt;B&gt;,</p><p>Ada &amp; Co (ada@acme.test) invited you to join "
        "<strong>Acme &lt;GmbH&gt;</strong> on Sendtrail, where you see when the people you "
        'email open and click.</p><p><a href="https://st.test/invitation#tok">Choose your '
        "password and sign in</a></p><p>The link works once, until May 3, 2030 at 14:05 "
        "UTC.</p><p>If you did not expect this invitation, ignore this email: nothing "
        "happens until the link is used.</p>"
    )


def test_an_admin_working_in_german_invites_in_german() -> None:
    with speaking("de"):
        wording = invitation_wording(who="Ada", inviter_address="ada@acme.test",
                                     invitee_name=None, account="Acme",
                                     link="https://st.test/invitation#tok", expires_at=UNTIL)
    assert wording.subject == "Ada hat Sie zu Acme bei Sendtrail eingeladen"
    assert wording.text.startswith("Guten Tag,\n\nAda (ada@acme.test) hat Sie eingeladen")
    assert "3. Mai 2030 um 14:05 UTC" in wording.text
    assert "<strong>Acme</strong>" in wording.html
    assert "Hello" not in wording.text + wording.html
