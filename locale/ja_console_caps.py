"""Japanese copy of the support console's usage caps (guardrails) and the
quota-increase readiness pack (issue 7, items 6 and 7).

Kept apart from ``ja_translations.py`` while several sessions edit the catalog;
merged by ``_all_copy()`` (same keys: (msgctxt, msgid)). Plural entries are keyed
by their singular msgid."""

from __future__ import annotations

JA_CONSOLE_CAPS: dict[tuple[str | None, str], str] = {
    # --- models and states
    (None, "None (alerts only)"): "なし（アラートのみ）",
    (None, "Disable SMTP usernames"): "SMTP ユーザー名を無効化",
    (None, "Pause bulk sends"): "一斉配信を停止",
    (
        None,
        "Disable SMTP usernames and pause bulk sends",
    ): "SMTP ユーザー名の無効化と一斉配信の停止",
    (None, "Within the caps"): "上限内",
    (None, "Cap warning (80%)"): "上限の 80% に到達",
    (None, "Cap reached"): "上限に到達",
    (None, "Sending stopped by the cap"): "上限により送信停止中",
    (None, "monthly send cap (emails)"): "月間送信数の上限（通）",
    (None, "monthly spend cap (JPY)"): "月間利用金額の上限（円）",
    (None, "action at 100%"): "100% 到達時の措置",
    (None, "usage cap"): "利用上限",
    (None, "usage caps"): "利用上限",
    (None, "SMTP usernames disabled"): "SMTP ユーザー名を無効化",
    (None, "Bulk sends paused"): "一斉配信を停止",
    (None, "Being applied"): "適用処理中",
    (None, "Being lifted"): "解除中",
    # --- service messages, alerts and mail
    (None, "monthly send cap"): "月間送信数の上限",
    (None, "monthly spend cap"): "月間利用金額の上限",
    (None, "%(n)s emails"): "%(n)s 通",
    (
        None,
        "The %(rule)s is reached: %(used)s of %(cap)s (%(percent)s%%)",
    ): "%(rule)sに達しました：%(cap)s 中 %(used)s（%(percent)s%%）",
    (
        None,
        "%(percent)s%% of the %(rule)s used: %(used)s of %(cap)s",
    ): "%(rule)sの %(percent)s%% を使用しました：%(cap)s 中 %(used)s",
    (
        None,
        "No hard action is configured: sending continues.",
    ): "上限時の措置は設定されていないため、送信は続きます。",
    (
        None,
        "Hard action: %(action)s, until staff or the owner lift it.",
    ): "上限時の措置：%(action)s（サポート担当またはオーナーが解除するまで）",
    (
        None,
        "%(rule)s reached (%(used)s of %(cap)s)",
    ): "%(rule)sに到達（%(cap)s 中 %(used)s）",
    (
        None,
        "Only the owner or MSP staff can lift the usage cap.",
    ): "利用上限を解除できるのはオーナーまたはサポート担当者だけです。",
    (
        None,
        "Nothing is stopped by the usage cap.",
    ): "利用上限で停止しているものはありません。",
    (
        None,
        "The cap was raised above the current use.",
    ): "上限が現在の利用量より引き上げられました。",
    (None, "Choose an action."): "措置を選んでください。",
    (None, "Usage caps"): "利用上限",
    (None, "Usage cap"): "利用上限",
    (
        None,
        "[Usage cap] %(name)s: a monthly cap is reached",
    ): "【利用上限】%(name)s：月間の上限に達しました",
    (
        None,
        "[Usage cap] %(name)s: 80%% of a monthly cap used",
    ): "【利用上限】%(name)s：月間の上限の 80%% を使用しました",
    (None, "Usage caps of %(name)s:"): "%(name)s の利用上限：",
    (
        None,
        "See the usage and lift a stop on the portal's usage cap page:",
    ): "利用状況の確認と停止の解除は、ポータルの利用上限ページから行えます：",
    # --- forms and views
    (
        None,
        "Enter a whole number without commas.",
    ): "カンマを付けずに整数で入力してください。",
    (
        None,
        "Enter 1 or more, or leave it empty for no cap.",
    ): "1 以上を入力するか、上限なしの場合は空欄にしてください。",
    (None, "Monthly send cap (emails)"): "月間送信数の上限（通）",
    (None, "The send cap is too large."): "送信数の上限が大きすぎます。",
    (None, "Monthly spend cap (JPY, tax included)"): "月間利用金額の上限（円・税込）",
    (None, "The spend cap is too large."): "利用金額の上限が大きすぎます。",
    (None, "Action at 100%"): "100% 到達時の措置",
    (None, "Action at 100%%"): "100%% 到達時の措置",
    (
        None,
        "Set a send cap or a spend cap for the action at 100% to apply.",
    ): "上限時の措置を有効にするには、送信数か利用金額の上限を設定してください。",
    (None, "Reason (recorded in the audit log)"): "理由（監査ログに記録されます）",
    (None, "The usage caps were saved."): "利用上限を保存しました。",
    (
        None,
        "The usage cap was lifted. Sending works again.",
    ): "利用上限による停止を解除しました。送信を再開できます。",
    (None, "Monthly send cap"): "月間送信数の上限",
    (None, "Monthly spend cap"): "月間利用金額の上限",
    # --- templates: caps
    (None, "Why"): "理由",
    (None, "Taken"): "実施日時",
    (None, "Lifted"): "解除",
    (None, "No hard action has been taken."): "上限時の措置はまだ実施されていません。",
    (
        None,
        "Sending is stopped by the usage cap: the SMTP usernames are disabled, so devices cannot sign in.",
    ): "利用上限により送信が停止しています。SMTP ユーザー名が無効化されているため、機器はサインインできません。",
    (None, "%(used)s of %(cap)s emails"): "%(cap)s 通中 %(used)s 通",
    (None, "No cap"): "上限なし",
    (None, "checked"): "確認",
    (
        None,
        "No caps are set: sending is not limited by the portal.",
    ): "上限は設定されていません。ポータルによる送信の制限はありません。",
    (
        None,
        "Sending is stopped by the usage cap.",
    ): "利用上限により送信が停止しています。",
    (None, "Sending is stopped by the usage cap"): "利用上限により送信が停止しています",
    (None, "Lift the stop"): "停止を解除",
    (None, "Set the caps"): "上限を設定",
    (
        None,
        "Alerts at 80%% and 100%%; the spend is this month's charge so far (plan fee, usage and tax). Raising a cap above the current use lifts a stop.",
    ): "80%% と 100%% でアラートを出します。利用金額は今月これまでの請求額（プラン料金・利用料・消費税）です。上限を現在の利用量より上げると停止は解除されます。",
    (None, "Save caps"): "上限を保存",
    (None, "Hard actions"): "上限時の措置",
    (
        None,
        "Your provider sets monthly caps on the emails you send and on what you spend. You are notified at 80%% and 100%%.",
    ): "ご契約の事業者が、月間の送信数と利用金額に上限を設定しています。80%% と 100%% に達するとお知らせします。",
    (
        None,
        "Lifting restores sending for the rest of this month. Charges for the extra use will be invoiced.",
    ): "解除すると今月末まで送信を再開できます。上限を超えた分の利用料も請求されます。",
    (
        None,
        "Ask the owner of this account, or your provider, to lift it.",
    ): "解除はこのアカウントのオーナーまたはご契約の事業者に依頼してください。",
    (None, "History"): "履歴",
    (None, "Use of the monthly usage cap"): "月間利用上限の使用率",
    (None, "sending stopped"): "送信停止中",
    # --- readiness pack: page
    (None, "Quota-increase readiness pack"): "クォータ引き上げ準備パック",
    (None, "Quota-increase readiness"): "クォータ引き上げの準備状況",
    (
        None,
        "%(passed)s of %(total)s prerequisites met",
    ): "前提条件 %(total)s 項目中 %(passed)s 項目を満たしています",
    (None, "Ready to request a higher quota."): "クォータ引き上げを申請できます。",
    (
        None,
        "Not ready yet: fix the failing items first.",
    ): "まだ申請できません。先に不合格の項目を解消してください。",
    (None, "Current quota"): "現在のクォータ",
    (None, "min"): "分",
    (None, "h"): "時間",
    (
        None,
        "This tenant's limits have already been raised.",
    ): "このテナントの上限はすでに引き上げ済みです。",
    (None, "Prerequisite"): "前提条件",
    (None, "Evidence"): "根拠",
    (None, "What to fix"): "対処方法",
    (None, "Pass"): "合格",
    (None, "Check by hand"): "手動で確認",
    (None, "Fail"): "不合格",
    (None, "Sending profile (last 30 days)"): "送信状況（過去 30 日間）",
    (None, "Peak per minute"): "1 分あたりのピーク",
    (None, "Peak per hour"): "1 時間あたりのピーク",
    (None, "Peak per day"): "1 日あたりのピーク",
    (None, "Failure rate"): "失敗率",
    (None, "Support request"): "サポートリクエスト",
    (None, "Update the document"): "文書を更新",
    (None, "Download (.txt)"): "ダウンロード（.txt）",
    (None, "Document language"): "文書の言語",
    (None, "Expected emails per month"): "想定月間送信数",
    (None, "Expected peak per minute"): "想定ピーク（1 分あたり）",
    (None, "Expected peak per hour"): "想定ピーク（1 時間あたり）",
    (None, "Use case"): "用途",
    # --- readiness pack: document
    (
        None,
        "Azure Communication Services Email: request for higher sending limits",
    ): "Azure Communication Services Email：送信上限引き上げの申請",
    (None, "Resource ID"): "リソース ID",
    (None, "Prepared"): "作成日",
    (None, "Prerequisites"): "前提条件",
    (None, "Current sending (last 30 days)"): "現在の送信状況（過去 30 日間）",
    (None, "Recipients on the busiest day"): "最も多い日の宛先数",
    (None, "Monthly volume"): "月別の送信量",
    (None, "to date"): "途中まで",
    (None, "Expected volume"): "想定送信量",
    (None, "Requested limits"): "希望する上限",
    (None, "Emails per minute"): "1 分あたりのメール数",
    (None, "Emails per hour"): "1 時間あたりのメール数",
    # --- readiness pack: checks
    (None, "No verified custom domain."): "検証済みの独自ドメインがありません。",
    (None, "%(domain)s: no DNS check yet"): "%(domain)s：DNS チェックが未実施です",
    (None, "not checked"): "未確認",
    (None, "MX record published"): "MX レコードの公開",
    (
        None,
        "Publish an MX record for the sending domain (the host that receives its mail, e.g. Exchange Online), so replies and bounces can be delivered.",
    ): "返信やバウンスを受け取れるよう、送信ドメインに MX レコード（Exchange Online など受信サーバー）を公開してください。",
    (None, "Not on a DNS blocklist"): "DNS ブロックリストに未掲載",
    (
        None,
        "The domain is listed on %(zone)s. Find and stop the source of the spam reports, then request delisting before asking for a higher quota.",
    ): "ドメインが %(zone)s に掲載されています。迷惑メール報告の原因を特定して止め、掲載解除を依頼してからクォータ引き上げを申請してください。",
    (
        None,
        "%(domain)s is listed (%(codes)s)",
    ): "%(domain)s は掲載されています（%(codes)s）",
    (None, "%(domain)s: not listed"): "%(domain)s：掲載なし",
    (
        None,
        "%(domain)s: the blocklist could not be queried (%(status)s); check it by hand",
    ): "%(domain)s：ブロックリストを照会できませんでした（%(status)s）。手動で確認してください",
    (
        None,
        "Failure rate under 2%% (last %(days)d days)",
    ): "失敗率 2%% 未満（過去 %(days)d 日間）",
    (
        None,
        "Remove addresses that bounce (suppression list), fix the recipients with the most failures on the delivery dashboard, and keep the rate under 2% (under 1% for the high-volume tier) for a few weeks before asking.",
    ): "バウンスする宛先を除外（抑制リスト）し、配信ダッシュボードで失敗の多い宛先を見直して、申請前の数週間は失敗率を 2% 未満（大量送信枠では 1% 未満）に保ってください。",
    (
        None,
        "No mail was sent in the last %(days)d days.",
    ): "過去 %(days)d 日間に送信がありません。",
    (
        None,
        "Send real traffic for 2–4 weeks first: Microsoft looks at the history.",
    ): "まず 2〜4 週間、実際の送信を行ってください。Microsoft は送信実績を確認します。",
    (
        None,
        "%(domain)s: %(rate)s%% (%(failed)s of %(sent)s recipients)",
    ): "%(domain)s：%(rate)s%%（宛先 %(sent)s 件中 %(failed)s 件）",
    (
        None,
        "The high-volume tier (1–2 million per hour) needs under 1%.",
    ): "大量送信枠（1 時間あたり 100〜200 万通）には 1% 未満が必要です。",
    (
        None,
        "Add the company's own domain under Mail → Domains, publish the records shown there and verify it. Higher limits apply only to verified custom domains, not to the Azure-managed domain.",
    ): "メール → ドメインで自社ドメインを追加し、表示されるレコードを公開して検証してください。引き上げ後の上限は検証済みの独自ドメインにのみ適用され、Azure マネージド ドメインには適用されません。",
    (None, "Custom domain verified"): "独自ドメインの検証",
    (None, "No custom domain."): "独自ドメインがありません。",
    (
        None,
        "Custom domain linked to the Communication Service",
    ): "独自ドメインと Communication Service の接続",
    (None, "not linked"): "未接続",
    (
        None,
        "Link every verified custom domain under Mail → Domains.",
    ): "メール → ドメインで、検証済みの独自ドメインをすべて接続してください。",
    (None, "SPF"): "SPF",
    (
        None,
        "Publish the SPF record ACS shows, with -all.",
    ): "ACS が示す SPF レコードを -all 付きで公開してください。",
    (None, "DKIM (both selectors)"): "DKIM（両方のセレクター）",
    (
        None,
        "Publish both DKIM CNAME records ACS shows (selector1 and selector2).",
    ): "ACS が示す DKIM の CNAME レコードを 2 つ（selector1 と selector2）とも公開してください。",
    (None, "DMARC"): "DMARC",
    (
        None,
        "Publish a DMARC record at _dmarc.<domain>, e.g. v=DMARC1; p=none;",
    ): "_dmarc.<ドメイン> に DMARC レコードを公開してください（例：v=DMARC1; p=none;）。",
    (
        None,
        "scan-to-email from %(n)d multifunction printers",
    ): "複合機 %(n)d 台からのスキャン送信",
    (
        None,
        "notifications from %(n)d business applications",
    ): "業務アプリケーション %(n)d 件からの通知",
    (
        None,
        "bulk notices to customers (%(n)d campaigns in 30 days)",
    ): "顧客への一斉通知（30 日間で %(n)d 件）",
    (
        None,
        "Transactional business mail of %(company)s sent through Azure Communication Services: %(parts)s. Recipients are customers and business partners who expect these messages; bounces are suppressed automatically.",
    ): "%(company)s が Azure Communication Services から送信する業務メールです：%(parts)s。宛先はこれらのメールを受け取ることを了承している顧客と取引先で、バウンスした宛先は自動的に送信対象から除外しています。",
    (None, "business notifications"): "業務通知",
    (
        None,
        "SMTP sending is stopped because a usage cap was reached. New device credentials can be created once the stop is lifted.",
    ): "利用上限に達したため SMTP 送信を停止しています。停止が解除されるまで、新しいデバイス用の認証情報は作成できません。",
    (
        None,
        "SMTP credential %(label)s has expired",
    ): "SMTP 認証情報「%(label)s」の有効期限が切れました",
    (
        None,
        "SMTP credential %(label)s expires in %(days)s days",
    ): "SMTP 認証情報「%(label)s」の有効期限まであと %(days)s 日です",
    (
        None,
        "DNS records of %(domain)s are broken",
    ): "%(domain)s の DNS レコードに問題があります",
    (
        None,
        "DNS records of %(domain)s changed",
    ): "%(domain)s の DNS レコードが変更されました",
    (
        None,
        "They differ from the check of %(when)s.",
    ): "%(when)s のチェック結果と異なります。",
    (None, "ACS provisioning failed"): "ACS リソースの作成に失敗しました",
}
