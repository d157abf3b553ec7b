"""Japanese copy of the campaign sending engine (issue 8, engine half): the checks
that refuse a campaign, state changes, test sends and progress notes.

Kept apart from ``ja_translations.py`` while several sessions edit the catalog;
merged by ``_all_copy()`` (same keys: (msgctxt, msgid))."""

from __future__ import annotations

JA_CAMPAIGNS_ENGINE: dict[tuple[str | None, str], str] = {
    # Checks before queueing (campaign_check)
    (None, "Choose a recipient list."): "宛先リストを選択してください。",
    (
        None,
        "Only a draft campaign can be sent.",
    ): "送信できるのは下書きの一斉配信だけです。",
    (
        None,
        "The sender's domain %(domain)s is not verified and linked to your "
        "Communication Service yet.",
    ): "送信元のドメイン %(domain)s は、まだ検証が完了していないか、Communication Service に接続されていません。",
    (
        None,
        "The sender address %(address)s is not active in Azure yet (no sender "
        "username). Add it on the domain page first.",
    ): "送信元アドレス %(address)s は Azure でまだ有効になっていません（送信者ユーザー名が未作成です）。先にドメインのページで追加してください。",
    (
        None,
        "The message is %(size)s MB with its attachments (in base64); ACS "
        "accepts at most 10 MB per message.",
    ): "添付ファイルを含めたメッセージのサイズが %(size)s MB（Base64 変換後）です。ACS で送信できるのは 1 通あたり 10 MB までです。",
    (
        None,
        "The recipient list %(name)s has not been imported yet.",
    ): "宛先リスト「%(name)s」はまだ取り込みが完了していません。",
    (
        None,
        "The recipient list %(name)s has no recipients.",
    ): "宛先リスト「%(name)s」に宛先がありません。",
    (
        None,
        "These merge fields are not columns of the recipient list: %(fields)s.",
    ): "次の差し込み項目は宛先リストの列にありません: %(fields)s",
    # State changes
    (
        None,
        "Only a running or scheduled campaign can be paused.",
    ): "一時停止できるのは、送信中または予約中の一斉配信だけです。",
    (
        None,
        "Only a paused campaign can be resumed.",
    ): "再開できるのは、一時停止中の一斉配信だけです。",
    (
        None,
        "This campaign can no longer be cancelled.",
    ): "この一斉配信はもう中止できません。",
    # Test send
    (
        None,
        "Enter at least one address for the test.",
    ): "テスト送信先のアドレスを 1 件以上入力してください。",
    (
        None,
        "ACS accepts at most %(max)d recipients in one message; you entered %(n)d.",
    ): "ACS で 1 通のメッセージに指定できる宛先は %(max)d 件までです（入力された宛先: %(n)d 件）。",
    (
        None,
        "ACS resources are still being prepared. Try again shortly.",
    ): "ACS リソースを準備中です。しばらくしてからもう一度お試しください。",
    (None, "[TEST]"): "[テスト]",
    # Progress notes
    (None, "Sending is on hold: %(reason)s"): "送信を保留しています: %(reason)s",
    (None, "Starts at %(when)s (JST)."): "%(when)s（日本時間）に送信を開始します。",
    (
        None,
        "Outside the send window; resumes at %(when)s (JST).",
    ): "送信時間帯の外のため待機中です。%(when)s（日本時間）に再開します。",
}
