"""Japanese copy of the staff console's tenant onboarding wizard (issue 7 item 5):
the wizard steps, their validation messages, the review and the progress page.

Kept apart from ``ja_translations.py`` while several sessions edit the catalog;
``_all_copy()`` there merges it (same keys: (msgctxt, msgid))."""

from __future__ import annotations

JA_CONSOLE_WIZARD: dict[tuple[str | None, str], str] = {
    # wizard frame
    (None, "Onboard a tenant"): "テナントのオンボーディング",
    (None, "Onboarding steps"): "オンボーディングの手順",
    (None, "Cancel wizard"): "ウィザードを中止",
    (None, "Back"): "戻る",
    (None, "Review"): "確認",
    ("onboarding submit", "Create"): "作成",
    ("onboarding step", "Company"): "会社情報",
    (None, "Plan and contract"): "プランと契約",
    ("edit link", "Change"): "変更する",
    (None, "Yes"): "はい",
    (None, "No"): "いいえ",
    (
        None,
        "Check everything. Nothing has been created yet. If any step fails, nothing is created.",
    ): "内容をすべて確認してください。まだ何も作成されていません。途中の手順が失敗した場合は、何も作成されません。",
    (
        None,
        "The onboarding wizard was cleared.",
    ): "オンボーディング ウィザードの入力内容を破棄しました。",
    (
        None,
        "This form has expired. Check the answers again.",
    ): "このフォームは有効期限が切れています。入力内容をもう一度確認してください。",
    (
        None,
        "This form has expired. Start the wizard again.",
    ): "このフォームは有効期限が切れています。ウィザードを最初からやり直してください。",
    (
        None,
        "Some answers are no longer valid. Check them.",
    ): "入力内容の一部が現在は有効ではありません。確認してください。",
    (
        None,
        "Tenant %(name)s was created. Provisioning continues below.",
    ): "テナント「%(name)s」を作成しました。セットアップの進み具合は以下で確認できます。",
    (
        None,
        "Only MSP staff can onboard tenants.",
    ): "テナントのオンボーディングは MSP スタッフのみ行えます。",
    # (a) company
    (None, "Identifier (subdomain)"): "識別子（サブドメイン）",
    (
        None,
        "3–32 lower-case letters, digits and hyphens. The portal address becomes <identifier>.%(domain)s",
    ): "英小文字・数字・ハイフンの 3〜32 文字。ポータルのアドレスは <識別子>.%(domain)s になります",
    (None, "Corporate number (13 digits, optional)"): "法人番号（13 桁、任意）",
    (
        None,
        "Enter the corporate number as 13 digits.",
    ): "法人番号は 13 桁の数字で入力してください。",
    (
        None,
        "The check digit of this corporate number does not match. Check for a typo.",
    ): "法人番号のチェックディジットが一致しません。入力に誤りがないか確認してください。",
    # (b) plan and contract
    (None, "Choose a plan."): "プランを選んでください。",
    (None, "Contract start date"): "契約開始日",
    (
        None,
        "FX policy (USD usage is invoiced in JPY)",
    ): "為替の適用方針（USD 建ての利用料を円で請求）",
    (None, "Fixed rate (JPY per USD)"): "固定レート（1 USD あたりの円）",
    (
        None,
        "Only for the fixed-rate policy.",
    ): "固定レートの方針を選んだ場合のみ入力します。",
    (
        None,
        "Enter the fixed rate for a fixed-rate contract.",
    ): "固定レートの契約では固定レートを入力してください。",
    (
        None,
        "Invoices are issued in JPY. ACS usage is priced in USD and converted with the contract's FX policy.",
    ): "請求書は円建てで発行します。ACS の利用料は USD 建てのため、契約の為替方針で円に換算します。",
    # (c) ACS
    (None, "Provision the ACS resources now"): "ACS リソースを今すぐセットアップする",
    (
        None,
        "Defaults come from the MSP's settings. Leave subscription and resource group empty to use them.",
    ): "既定値は MSP の設定から入力されています。サブスクリプションとリソースグループを空欄にすると既定値を使います。",
    (
        None,
        "A subscription ID looks like 00000000-0000-0000-0000-000000000000.",
    ): "サブスクリプション ID は 00000000-0000-0000-0000-000000000000 の形式で入力してください。",
    (
        None,
        "Use up to 90 letters, digits, hyphens, underscores, periods and parentheses, not ending with a period.",
    ): "英数字・ハイフン・アンダースコア・ピリオド・かっこの 90 文字以内で入力してください（末尾にピリオドは使えません）。",
    # (d) owner
    (None, "Language of the invitation and portal"): "招待メールとポータルの言語",
    (
        None,
        "The owner receives an invitation mail in this language and sets a password and two-factor authentication.",
    ): "オーナーにはこの言語で招待メールが届き、パスワードと 2 要素認証を設定します。",
    # (e) assessment
    (
        None,
        "Start an Exchange Online assessment for this customer",
    ): "このお客様の Exchange Online 診断を開始する",
    (None, "Enter this to run the assessment."): "診断にはこの値が必要です。",
    (
        None,
        "Optional. With these figures the assessment of the customer's Exchange Online sending opens ready to read.",
    ): "任意です。数値を入力しておくと、お客様の Exchange Online の送信状況の診断結果をすぐに開けます。",
    # progress
    (None, "Onboarding progress"): "オンボーディングの進み具合",
    (None, "Tenant schema"): "テナントのスキーマ",
    (None, "Owner invitation"): "オーナーへの招待",
    (
        None,
        "Link domain to Communication Service",
    ): "ドメインを Communication Service に接続",
    (None, "%(done)d of %(total)d steps done"): "%(total)d 手順中 %(done)d 手順完了",
    (None, "Not requested"): "依頼していません",
    (None, "Accepted"): "承諾済み",
    (None, "Sent to %(email)s"): "%(email)s に送信済み",
    (None, "Sending to %(email)s"): "%(email)s に送信中",
    (None, "No longer open"): "無効になりました",
    ("onboarding", "In progress"): "処理中",
    ("onboarding", "Ready"): "準備完了",
    (None, "Skipped"): "省略",
    (None, "Retry provisioning"): "セットアップを再試行",
    (None, "Provision now"): "今すぐセットアップ",
    (None, "Open the assessment"): "診断結果を開く",
    (None, "Open an empty assessment"): "空の診断を開く",
    (
        None,
        "This page updates itself every 2 seconds.",
    ): "このページは 2 秒ごとに自動で更新されます。",
    (None, "Tenant details"): "テナントの詳細",
}
