"""Japanese UI copy of the public estimator and assessment pages and the billing
documents (issue 6), drafted with the pages rendered in Japanese."""

from __future__ import annotations

JA_BILLING_DOCS: dict[tuple[str | None, str], str] = {
    (
        None,
        "Recipient rate limit (per mailbox)",
    ): "受信者レート制限（メールボックスごと）",
    (None, "recipients / rolling 24 h"): "受信者 / 直近24時間",
    (
        None,
        "Internal and external recipients both count; cannot be raised.",
    ): "社内・社外の受信者がどちらも数えられます。引き上げはできません。",
    (
        None,
        "Message rate limit (SMTP client submission, per mailbox)",
    ): "メッセージ送信レート制限（SMTP クライアント送信、メールボックスごと）",
    (None, "messages / minute"): "通 / 分",
    (
        None,
        "Above this, sending is throttled or delayed. Source date: reference check date (the PR date is not given).",
    ): "これを超えると送信が抑制または遅延されます。出典日は資料の確認日です（PR の日付は不明）。",
    (None, "Recipients per message (default)"): "1通あたりの受信者数（既定値）",
    (None, "recipients / message"): "受信者 / 通",
    (None, "Customisable 1–1,000."): "1～1,000 の範囲で変更できます。",
    (
        None,
        "Tenant external recipient rate limit (TERRL)",
    ): "テナント外部受信者レート制限（TERRL）",
    (
        None,
        "external recipients / rolling 24 h / tenant",
    ): "外部受信者 / 直近24時間 / テナント",
    (
        None,
        "500 × licences^0.7 + 9,500 for purchased EXO/EOP licences; enforcement for tenants with more than 500 licences was paused (unconfirmed today). Mail sent via ACS does not count. Rounded down here as the reference does; Microsoft's published examples (10 → 12,006; 10,000 → 324,979) look rounded to nearest, so the value shown may be 1 lower.",
    ): "購入済み EXO/EOP ライセンス数 L に対し 500 × L^0.7 + 9,500。500 ライセンスを超えるテナントへの適用は一時停止されていました（現状は未確認）。ACS で送信したメールは数えられません。ここでは資料どおり切り捨てています。Microsoft の公表例（10 → 12,006、10,000 → 324,979）は四捨五入のように見えるため、表示値は 1 少ない場合があります。",
    (None, "TERRL for trial tenants"): "試用テナントの TERRL",
    (
        None,
        "Microsoft announced TERRL changes for new and trial tenants from mid-September 2026 (MC1454397); read the live value with Get-LimitsEnforcementStatus.",
    ): "Microsoft は 2026年9月中旬から新規・試用テナントの TERRL を変更すると発表しています（MC1454397）。実際の値は Get-LimitsEnforcementStatus で確認してください。",
    (
        None,
        "Mailbox external recipient rate limit (ERR/MERRL)",
    ): "メールボックス外部受信者レート制限（ERR/MERRL）",
    (
        None,
        "external recipients / rolling 24 h / mailbox",
    ): "外部受信者 / 直近24時間 / メールボックス",
    (
        None,
        "Cancelled indefinitely; shown as history, not enforced.",
    ): "無期限で中止されました。経緯として表示しており、適用されません。",
    (
        None,
        "Original plan: remove Basic auth for SMTP AUTH in September 2025.",
    ): "当初の計画：2025年9月に SMTP AUTH の基本認証を廃止。",
    (
        None,
        "Delayed plan: gradual rejections from 2026-03-01, 100% by 2026-04-30 (later put on hold).",
    ): "延期後の計画：2026-03-01 から段階的に拒否し、2026-04-30 までに 100%（その後保留）。",
    (
        None,
        "Now to December 2026: behaviour unchanged. End of December 2026: Basic auth for SMTP AUTH disabled by default for existing tenants; administrators can still enable it. New tenants created after December 2026: unavailable by default (OAuth supported).",
    ): "現在～2026年12月：変更なし。2026年12月末：既存テナントでは SMTP AUTH の基本認証が既定で無効になります（管理者は有効化できます）。2026年12月より後に作成された新規テナント：既定で利用不可（OAuth は利用可能）。",
    (
        None,
        "Microsoft will announce the final removal date in the second half of 2027.",
    ): "Microsoft は 2027年下半期に最終的な廃止日を発表する予定です。",
    (
        None,
        "Tenant external volume exceeds TERRL: sends are rejected with NDR 550 5.7.233. Move application and bulk mail to ACS, which does not count.",
    ): "テナントの外部送信量が TERRL を超えています。送信は NDR 550 5.7.233 で拒否されます。アプリケーションや一斉配信のメールを ACS に移してください（ACS の送信は数えられません）。",
    (
        None,
        "Tenant external volume is within TERRL.",
    ): "テナントの外部送信量は TERRL の範囲内です。",
    (
        None,
        "Average per mailbox exceeds 10,000 recipients per 24 h: NDR.",
    ): "メールボックスあたりの平均が 24時間 10,000 受信者を超えています。NDR になります。",
    (
        None,
        "Average per mailbox is within 10,000 recipients per 24 h; check the busiest mailbox (internal recipients count too).",
    ): "メールボックスあたりの平均は 24時間 10,000 受信者の範囲内です。最も送信の多いメールボックスを確認してください（社内の受信者も数えられます）。",
    (
        None,
        "Move external application and bulk mail to ACS Email.",
    ): "社外向けのアプリケーションメールや一斉配信を ACS Email に移してください。",
    (
        None,
        "SMTP AUTH Basic is disabled by default at the end of December 2026: move devices and applications to OAuth, to ACS Email (external recipients) or to HVE (internal recipients only).",
    ): "SMTP AUTH の基本認証は 2026年12月末に既定で無効になります。機器やアプリケーションを OAuth、ACS Email（社外宛て）、または HVE（社内宛てのみ）に移行してください。",
    (
        None,
        "Confirm how the sending devices authenticate (EAC SMTP AUTH Clients Submission report).",
    ): "送信する機器の認証方式を確認してください（EAC の SMTP AUTH Clients Submission レポート）。",
    (
        None,
        "Microsoft's rounding of TERRL (rounded down here).",
    ): "Microsoft による TERRL の端数処理（ここでは切り捨て）。",
    (
        None,
        "Which licence SKUs count towards TERRL.",
    ): "TERRL の計算に含まれるライセンス SKU。",
    (
        None,
        "Whether TERRL is enforced for tenants with more than 500 licences.",
    ): "500 ライセンスを超えるテナントに TERRL が適用されているか。",
    (
        None,
        "Trial TERRL: 5,000 per petri.com; 500 per a September 2026 note.",
    ): "試用テナントの TERRL：petri.com では 5,000、2026年9月の資料では 500。",
    (None, "Plan fee"): "プラン料金",
    (None, "Emails per month"): "月間送信数",
    (
        None,
        "Count every recipient: one message to 5 recipients is 5 emails.",
    ): "受信者ごとに数えます。5人宛ての1通は 5通です。",
    (None, "Average message size (KB)"): "平均メールサイズ（KB）",
    (
        None,
        "Including attachments. 1 MB = 1,024 KB.",
    ): "添付ファイルを含みます。1 MB = 1,024 KB。",
    (None, "Exchange rate (JPY per USD)"): "為替レート（1ドルあたりの円）",
    (
        None,
        "Leave empty to use the latest rate we have entered.",
    ): "空欄の場合は当社が登録した最新のレートを使います。",
    (None, "Exchange Online licences"): "Exchange Online ライセンス数",
    (
        None,
        "Purchased (non-trial) Exchange Online or EOP licences.",
    ): "購入済み（試用以外）の Exchange Online または EOP ライセンス。",
    (None, "Trial tenant"): "試用テナント",
    (None, "Mailboxes that send"): "送信するメールボックス数",
    (None, "Devices and applications that send"): "送信する機器・アプリケーション数",
    (
        None,
        "Multifunction printers, business systems, scripts.",
    ): "複合機、業務システム、スクリプトなど。",
    (None, "External recipients per day"): "1日あたりの外部受信者数",
    (
        None,
        "Across the whole tenant, at the busiest day.",
    ): "テナント全体で、最も多い日の値。",
    (
        None,
        "Uses SMTP AUTH with a password (Basic authentication)",
    ): "パスワードによる SMTP AUTH（基本認証）を使用している",
    (None, "Source"): "出典",
    (None, "Exchange Online assessment"): "Exchange Online 診断",
    (
        None,
        "Exchange Online → ACS Email assessment",
    ): "Exchange Online → ACS Email 移行診断",
    (
        None,
        "Check whether your Exchange Online tenant's mail volume hits Microsoft's sending limits, how the end of SMTP AUTH Basic authentication affects you, and what sending through Azure Communication Services would cost.",
    ): "Exchange Online テナントの送信量が Microsoft の送信制限に達するか、SMTP AUTH 基本認証の終了がどう影響するか、Azure Communication Services で送信した場合の費用を確認できます。",
    (None, "Assess"): "診断する",
    (None, "Result"): "結果",
    (None, "external recipients per rolling 24 hours"): "外部受信者 / 直近24時間",
    (None, "trial tenant: fixed value, unconfirmed"): "試用テナント：固定値（未確認）",
    (None, "rounded down"): "切り捨て",
    (None, "Limit"): "制限",
    (None, "Your volume"): "お客様の送信量",
    (None, "Limit value"): "制限値",
    (None, "What it means"): "意味",
    (
        None,
        "TERRL (tenant, external recipients / 24 h)",
    ): "TERRL（テナント、外部受信者 / 24時間）",
    (
        None,
        "Recipient rate limit (average per mailbox / 24 h)",
    ): "受信者レート制限（メールボックスあたり平均 / 24時間）",
    (None, "Exceeded"): "超過",
    (None, "Within limit"): "範囲内",
    (None, "SMTP AUTH Basic"): "SMTP AUTH 基本認証",
    (None, "%(n)s sending device"): "送信する機器 %(n)s 台",
    (None, "Affected"): "影響あり",
    (None, "Not used"): "未使用",
    (
        None,
        "Disabled by default at the end of December 2026 (source dated 2026-01-27).",
    ): "2026年12月末に既定で無効になります（出典日 2026-01-27）。",
    (None, "Recommended actions"): "推奨される対応",
    (None, "Recommended plan and monthly estimate"): "推奨プランと月額見積もり",
    (
        None,
        "Plan: %(plan)s, for about %(emails)s external recipients per month (30 days).",
    ): "プラン：%(plan)s（月間 約 %(emails)s 件の外部受信者、30日換算）。",
    (None, "ACS usage (USD)"): "ACS 利用料（米ドル）",
    (None, "Exchange rate"): "為替レート",
    (None, "ACS usage (JPY)"): "ACS 利用料（円）",
    (None, "Consumption tax (10%%)"): "消費税（10%%）",
    (None, "Total (tax included)"): "合計（税込）",
    (
        None,
        "Assumes %(kb)s KB per message and recipient (1 MB = 1,024 KB).",
    ): "1通・受信者あたり %(kb)s KB と仮定しています（1 MB = 1,024 KB）。",
    (None, "Exchange Online limits used"): "使用した Exchange Online の制限値",
    (
        None,
        "Each limit shows the source it comes from and the date of that source. Microsoft changes these limits; check the live values in your tenant.",
    ): "各制限値には出典とその日付を示しています。制限値は Microsoft により変更されるため、実際の値はお客様のテナントで確認してください。",
    (None, "Source date"): "出典日",
    (None, "In force"): "適用中",
    (None, "Cancelled"): "中止",
    (None, "Unconfirmed"): "未確認",
    (
        None,
        "SMTP AUTH Basic authentication timeline",
    ): "SMTP AUTH 基本認証の廃止スケジュール",
    (None, "When"): "時期",
    (None, "What"): "内容",
    (
        None,
        "Facts as checked in September–October 2026.",
    ): "2026年9～10月時点で確認した情報です。",
    (None, "Estimate a monthly invoice"): "月額請求の見積もり",
    (None, "Cost estimate"): "料金見積もり",
    (None, "Monthly cost estimate"): "月額料金の見積もり",
    (
        None,
        "Estimate the monthly invoice for sending with Azure Communication Services Email through our managed service. ACS usage is priced in US dollars and converted to yen once per invoice; consumption tax (10%%) is calculated once on the total.",
    ): "当社のマネージドサービスで Azure Communication Services Email を使って送信する場合の月額請求を見積もります。ACS の利用料は米ドル建てで、請求書ごとに一度だけ円に換算します。消費税（10%%）は合計額に対して一度だけ計算します。",
    (None, "Estimate"): "見積もる",
    (None, "Estimated monthly invoice"): "月額請求の見積もり",
    (None, "(tax included)"): "（税込）",
    (None, "Billable emails"): "課金対象の送信数",
    (None, "%(n)s included in the plan"): "うちプラン込み %(n)s 通",
    (None, "Email send"): "メール送信",
    (None, "Data transferred"): "データ転送",
    (None, "rounded up"): "切り上げ",
    (None, "rounded half up"): "四捨五入",
    (None, "standard price list"): "標準料金表",
    (None, "Subtotal (10%% rate)"): "小計（10%%対象）",
    (
        None,
        "Sizes: 1 MB = 1,024 KB, counted once per recipient. ACS list prices: $0.00025 per email and $0.00012 per MB unless a newer price is entered. The invoice bills Azure's metered quantities, so it can differ slightly from this estimate.",
    ): "サイズは 1 MB = 1,024 KB とし、受信者ごとに数えます。ACS の定価は、新しい価格が登録されていない限り 1通 $0.00025、1 MB $0.00012 です。請求書は Azure の計測値で請求するため、この見積もりと多少異なる場合があります。",
    (
        None,
        "Moving from Exchange Online? Check your sending limits.",
    ): "Exchange Online から移行しますか？送信制限を確認しましょう。",
}
