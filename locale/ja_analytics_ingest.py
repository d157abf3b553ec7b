"""Japanese copy of delivery analytics ingestion (issue 5, ingestion half): the
Event Grid subscription page and the metrics cross-check alert.

Kept apart from ``ja_translations.py`` while several sessions edit the catalog;
merged by ``_all_copy()`` there (same keys: (msgctxt, msgid))."""

from __future__ import annotations

JA_ANALYTICS_INGEST: dict[tuple[str | None, str], str] = {
    # Event Grid subscription page
    (None, "Event Grid notifications"): "Event Grid 通知",
    (None, "Subscription URL"): "サブスクリプション URL",
    (
        None,
        "Copy the URL now. It contains a secret that is not stored and cannot be shown again.",
    ): "今すぐ URL をコピーしてください。URL に含まれるシークレットは保存されず、再表示できません。",
    (
        None,
        "Any URL issued before this one has stopped working. Update the Event Grid subscription now.",
    ): "これより前に発行した URL は使えなくなりました。Event Grid サブスクリプションを今すぐ更新してください。",
    (
        None,
        "Issued (only its fingerprint is stored)",
    ): "発行済み（保存しているのはフィンガープリントのみ）",
    (None, "Not issued yet"): "未発行",
    (None, "Last event received"): "最後にイベントを受信した日時",
    (None, "No event received yet"): "まだイベントを受信していません",
    (
        None,
        "Without Event Grid, delivery results still arrive from the Log Analytics pull every few minutes; events only make them near real time.",
    ): "Event Grid がなくても、配信結果は数分ごとに Log Analytics から取り込まれます。イベントを使うと、ほぼリアルタイムで反映されます。",
    (
        None,
        "Issue a new URL (the current one stops working)",
    ): "新しい URL を発行する（現在の URL は使えなくなります）",
    (None, "Issue the subscription URL"): "サブスクリプション URL を発行する",
    (
        None,
        "Creating the subscription in the Azure portal",
    ): "Azure portal でのサブスクリプションの作成",
    (
        None,
        "Open your Communication Services resource in the Azure portal and choose Events, then + Event Subscription.",
    ): "Azure portal で Communication Services リソースを開き、［イベント］→［+ イベント サブスクリプション］を選びます。",
    (
        None,
        "Give the subscription a name and keep the event schema Event Grid Schema.",
    ): "サブスクリプションに名前を付け、イベント スキーマは「Event Grid スキーマ」のままにします。",
    (
        None,
        "Under Filter to Event Types, select only these event types:",
    ): "［イベントの種類のフィルター］で、次のイベントの種類だけを選びます:",
    (
        None,
        "For the endpoint type choose Web Hook, and paste the subscription URL issued on this page as the endpoint.",
    ): "エンドポイントの種類に［Web フック］を選び、このページで発行したサブスクリプション URL をエンドポイントに貼り付けます。",
    (
        None,
        "Create the subscription. Azure sends a validation event first; this portal answers it automatically, and the subscription becomes active.",
    ): "サブスクリプションを作成します。Azure が最初に検証イベントを送り、このポータルが自動で応答すると、サブスクリプションが有効になります。",
    (
        None,
        "Keep the URL private: anyone who has it can send events for your organization. If it leaks, issue a new one here and update the subscription.",
    ): "URL は外部に漏らさないでください。URL を知っている人は誰でも貴社宛てのイベントを送れます。漏れた場合は、ここで新しい URL を発行してサブスクリプションを更新してください。",
    # Metrics cross-check (telemetry watchdog)
    (
        None,
        "Delivery logs and Azure Monitor metrics disagree",
    ): "配信ログと Azure Monitor のメトリックが一致しません",
    (
        None,
        "From %(start)s to %(end)s Azure Monitor counted %(metric)d delivery status updates, but %(ingested)d arrived through Log Analytics. Log records may be lost: check the diagnostic setting of the Communication Service and the workspace's daily cap.",
    ): "%(start)s から %(end)s までに Azure Monitor は配信状態の更新を %(metric)d 件数えましたが、Log Analytics から届いたのは %(ingested)d 件です。ログが失われている可能性があります。Communication Service の診断設定と、ワークスペースの 1 日の上限を確認してください。",
}
