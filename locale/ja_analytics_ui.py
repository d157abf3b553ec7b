"""Japanese copy of delivery analytics (issue 5, user-facing half): dashboard,
message search and detail, alerts and their mails, bounce explanations.

Kept apart from ``ja_translations.py`` while several sessions edit the catalog;
merge with ``JA.update(JA_ANALYTICS_UI)`` (same keys: (msgctxt, msgid)). Plural
entries are keyed by their singular msgid."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailops.analytics.bounces_ja import JA_COPY  # noqa: E402

JA_ANALYTICS_UI: dict[tuple[str | None, str], str] = {
    (
        None,
        "Bounce rate %(rate)s over the last 24 hours (limit %(limit)s)",
    ): "過去 24 時間のバウンス率が %(rate)s です（上限 %(limit)s）",
    (
        None,
        "%(failed)d of %(sent)d recipients were not delivered. Microsoft expects under 2%% for quota increases; open the dashboard to see the causes by recipient domain.",
    ): "%(sent)d 件中 %(failed)d 件の宛先に配信できませんでした。Microsoft はクォータ引き上げの条件として 2%% 未満を求めています。ダッシュボードで受信ドメイン別の原因を確認してください。",
    (
        None,
        "Failures spiked: %(n)d in the last hour",
    ): "配信失敗が急増しています（直近 1 時間で %(n)d 件）",
    (
        None,
        "The 7-day average is %(avg).1f failures per hour; the alert fires above %(factor).1f times that.",
    ): "過去 7 日間の平均は 1 時間あたり %(avg).1f 件です。その %(factor).1f 倍を超えるとアラートになります。",
    (
        None,
        "%(device)s has not sent mail for %(hours)d hours",
    ): "%(device)s から %(hours)d 時間メールが送信されていません",
    (
        None,
        "Last mail at %(last)s. Check that the device is on and that its SMTP password has not been changed or expired.",
    ): "最後の送信は %(last)s です。機器の電源が入っているか、SMTP パスワードが変更・失効していないかを確認してください。",
    (None, "per minute"): "1 分あたり",
    (None, "per hour"): "1 時間あたり",
    (
        None,
        "Sending peaked at %(peak)d of %(quota)d messages %(unit)s",
    ): "送信数のピークが %(unit)s %(peak)d 通に達しました（上限 %(quota)d 通）",
    (
        None,
        "Azure refuses mail above the resource's limit (HTTP 429). Spread sends over time or ask your MSP to request a higher quota.",
    ): "リソースの上限を超えると Azure は送信を拒否します（HTTP 429）。送信を時間で分散するか、MSP にクォータ引き上げの申請を依頼してください。",
    (
        None,
        "%(n)d recipients have had no final status for over %(m)d minutes",
    ): "%(n)d 件の宛先で、%(m)d 分以上たっても配信結果が確定していません",
    (
        None,
        "%(pending)d are still out for delivery and %(silent)d messages have no recipient status at all. Delivery logs or Event Grid events may not be arriving.",
    ): "配信中のままの宛先が %(pending)d 件、配信状況がまったく届いていないメッセージが %(silent)d 件あります。配信ログまたは Event Grid のイベントが届いていない可能性があります。",
    (
        None,
        "Delivery logs are not arriving from Azure Monitor",
    ): "Azure Monitor から配信ログが届いていません",
    (
        None,
        "%(n)d delivery events came from Event Grid over an hour ago without the matching Log Analytics rows. Check the diagnostic setting of the Communication Service and its workspace.",
    ): "Event Grid から 1 時間以上前に届いた配信イベント %(n)d 件に対応する Log Analytics のログがありません。Communication Service の診断設定と送信先ワークスペースを確認してください。",
    (
        None,
        "Delivery data has not been collected since %(when)s",
    ): "%(when)s 以降、配信データを取得できていません",
    (None, "[Mail alert] %(title)s"): "[メールアラート] %(title)s",
    (
        None,
        "Open the portal's alerts page to see and acknowledge it.",
    ): "ポータルのアラート画面で内容を確認し、確認済みにしてください。",
    (None, "Period"): "期間",
    (
        None,
        "Choose both dates for a custom period.",
    ): "期間を指定する場合は開始日と終了日の両方を選んでください。",
    (None, "Recipient"): "宛先",
    (
        None,
        "An address, or @domain for every address of a domain.",
    ): "メールアドレス、またはドメイン全体なら @ドメイン",
    (None, "Sender"): "送信元",
    (None, "An address or a domain."): "メールアドレスまたはドメイン",
    (None, "Message ID"): "メッセージ ID",
    (None, "Any status"): "すべての状態",
    (None, "Any device"): "すべての機器",
    (None, "Bounced"): "バウンス",
    (None, "Suppressed"): "配信停止",
    (None, "Filtered as spam"): "迷惑メール判定",
    (None, "Today"): "今日",
    (None, "Last 7 days"): "過去 7 日間",
    (None, "Last 30 days"): "過去 30 日間",
    (None, "This month"): "今月",
    (None, "Custom"): "期間を指定",
    (None, "Other (not a device credential)"): "その他（機器の認証情報以外）",
    (None, "Recipients per day by status"): "日別・状態別の宛先数",
    (None, "Recipients"): "宛先数",
    (
        None,
        "Recipients per hour: sent and not delivered",
    ): "時間別の宛先数（送信数と未配信数）",
    (None, "Sent"): "送信",
    (None, "Not delivered"): "未配信",
    (None, "Acknowledged: %(title)s"): "確認済みにしました: %(title)s",
    (None, "Alert settings saved."): "アラート設定を保存しました。",
    (None, "Hour"): "時間",
    (None, "Day"): "日",
    (None, "Alerts"): "アラート",
    (None, "Delivery"): "配信状況",
    (None, "No mail in this period."): "この期間のメールはありません。",
    (None, "Delivery pages"): "配信状況のページ",
    (None, "Message search"): "メッセージ検索",
    (None, "Open alerts"): "未解決のアラート",
    (
        None,
        "Open and acknowledged alerts, newest first",
    ): "未解決・確認済みのアラート（新しい順）",
    (None, "Severity"): "重要度",
    (None, "Alert"): "アラート",
    (None, "Opened"): "発生日時",
    (None, "State"): "状態",
    (None, "Acknowledge"): "確認済みにする",
    (None, "No open alerts."): "未解決のアラートはありません。",
    (
        None,
        "An acknowledged alert stays listed until its cause clears; then it closes by itself.",
    ): "確認済みのアラートも原因が解消するまで表示され、解消すると自動的に閉じられます。",
    (None, "Alert thresholds"): "アラートのしきい値",
    (
        None,
        "%(first)s to %(last)s (Japan time). Counts are per recipient.",
    ): "%(first)s〜%(last)s（日本時間）。件数は宛先単位です。",
    (None, "Download CSV"): "CSV をダウンロード",
    (None, "Totals"): "合計",
    (
        None,
        "No mail in this period yet. Delivery data appears a few minutes after sending.",
    ): "この期間のメールはまだありません。配信データは送信の数分後に表示されます。",
    (None, "By day"): "日別",
    (None, "Show the numbers"): "数値を表示",
    (None, "By hour"): "時間別",
    (None, "(last 48 hours of the period)"): "（期間の最後の 48 時間）",
    (None, "By sender domain"): "送信ドメイン別",
    (None, "Sender domain"): "送信ドメイン",
    (None, "By device"): "機器別",
    (None, "By recipient domain class"): "受信ドメイン種別",
    (None, "Recipient domain class"): "受信ドメインの種別",
    (None, "Recipient domains with the most failures"): "配信失敗の多い受信ドメイン",
    (
        None,
        "Based on the latest %(n)s recipients that were not delivered in this period.",
    ): "この期間に配信できなかった宛先のうち、直近 %(n)s 件に基づいています。",
    (None, "Recipient domain"): "受信ドメイン",
    (None, "Class"): "種別",
    (None, "Messages"): "メッセージ",
    (None, "No failures in this period."): "この期間の配信失敗はありません。",
    (
        None,
        "Why mail was not delivered, by recipient domain class",
    ): "配信できなかった理由（受信ドメイン種別ごと）",
    (None, "Causes of failed deliveries and what to do"): "配信失敗の原因と対処方法",
    (None, "Cause"): "原因",
    (None, "What to do"): "対処方法",
    (None, "Message"): "メッセージ",
    (None, "Summary"): "概要",
    (None, "Sent (JST)"): "送信日時（日本時間）",
    (
        None,
        "To %(to)s, Cc %(cc)s, Bcc %(bcc)s",
    ): "To %(to)s 件、Cc %(cc)s 件、Bcc %(bcc)s 件",
    (None, "Size"): "サイズ",
    (None, "%(n)s attachment"): "添付ファイル %(n)s 件",
    (None, "Client"): "クライアント",
    (None, "Recipients and delivery timeline"): "宛先と配信の経過",
    (
        None,
        "Accepted by Azure Communication Services",
    ): "Azure Communication Services が受け付け",
    (None, "Hard bounce"): "ハードバウンス",
    (None, "Reason from Azure"): "Azure からの理由",
    (None, "Server message"): "サーバーからのメッセージ",
    (
        None,
        "No delivery status has arrived for this message yet.",
    ): "このメッセージの配信状況はまだ届いていません。",
    (None, "Clear"): "クリア",
    (None, "Results"): "検索結果",
    (None, "page %(page)s"): "%(page)s ページ目",
    (
        None,
        "Messages matching the search, newest first",
    ): "検索条件に一致するメッセージ（新しい順）",
    (None, "+%(n)s more"): "他 %(n)s 件",
    (
        None,
        "No messages match. Widen the dates or clear a filter.",
    ): "一致するメッセージはありません。期間を広げるか、条件を減らしてください。",
    (None, "Newer"): "新しい結果",
    (None, "Older"): "古い結果",
    (
        None,
        "Only the first 5,000 results can be paged through. Narrow the search, or download the CSV.",
    ): "ページ送りで表示できるのは最初の 5,000 件までです。条件を絞り込むか、CSV をダウンロードしてください。",
}
JA_ANALYTICS_UI[(None, "Clicked a link")] = "リンクをクリック"
JA_ANALYTICS_UI[(None, "Opened the message")] = "メールを開封"
JA_ANALYTICS_UI.update({(None, msgid): ja for msgid, ja in JA_COPY.items()})
