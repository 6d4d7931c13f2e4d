"""The committed web-admin/schema.graphql is what the code serves (the web admin is built on it)."""

from __future__ import annotations

from pathlib import Path

from sendtrail.cli import main
from sendtrail.graphql.schema import schema_sdl

COMMITTED = Path(__file__).resolve().parents[2] / "web-admin" / "schema.graphql"


def test_committed_schema_is_current() -> None:
    assert COMMITTED.read_text() == schema_sdl(), (
        "web-admin/schema.graphql is stale: run `make schema` and commit it"
    )


def test_export_schema_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: String }\n")
    assert main(["export-schema", "--output", str(stale), "--check"]) == 2
    assert main(["export-schema", "--output", str(stale)]) == 0
    assert main(["export-schema", "--output", str(stale), "--check"]) == 0
    assert stale.read_text() == schema_sdl()


def test_schema_has_the_api_md_core_of_this_issue() -> None:
    sdl = schema_sdl()
    for name in ("viewer: User!", "account: Account!", "auditLog(", "apiTokens: [ApiToken!]!",
                 "updateAccountSettings(input: AccountSettingsInput!): Account!",
                 "inviteUser(input: InviteUserInput!): User!",
                 "updateUser(input: UpdateUserInput!): User!",
                 "createApiToken(input: CreateApiTokenInput!): CreatedApiToken!",
                 "revokeApiToken(id: ID!): ApiToken!",
                 "enum Seat {", "SALES_PROFESSIONAL", "enum Role {"):
        assert name in sdl
