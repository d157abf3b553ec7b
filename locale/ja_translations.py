"""Japanese UI copy, applied to locale/ja/LC_MESSAGES/django.po by
``python locale/ja_translations.py`` after ``makemessages``. Keeping the copy in one
reviewed table lets a translator read it without the .po noise; the test suite fails
if any msgid of the catalog has no translation."""

from __future__ import annotations

JA: dict[tuple[str | None, str], str] = {
    (None, "Billing"): "請求",
    ("role", "Billing"): "請求担当",
    (None, "Mail operations"): "メール運用",
    (None, "Japanese"): "日本語",
    (None, "English"): "英語",
    (None, "Filter"): "絞り込み",
    (None, "Time"): "日時",
    (None, "Actor"): "操作者",
    (None, "Action"): "操作",
    (None, "Target"): "対象",
    (None, "Change"): "変更内容",
    (None, "IP address"): "IP アドレス",
    (None, "No events match."): "該当する記録はありません。",
    (None, "Pages"): "ページ",
    (None, "Previous"): "前へ",
    (None, "Page %(n)s of %(total)s"): "%(n)s / %(total)s ページ",
    (None, "Next"): "次へ",
    (None, "Audit log"): "監査ログ",
    (
        None,
        "Every change in this portal, who made it and from where. Entries cannot be edited or deleted.",
    ): "このポータルで行われたすべての変更と、操作者・接続元を記録しています。記録は編集・削除できません。",
    (None, "Accept invitation"): "招待の承諾",
    (
        None,
        "Create your account for %(email)s (role: %(role)s).",
    ): "%(email)s のアカウントを作成します（ロール: %(role)s）。",
    (None, "Create account"): "アカウントを作成",
    (None, "Invitation no longer valid"): "この招待は無効です",
    (
        None,
        "This invitation has expired or was already used. Ask for a new one.",
    ): "この招待は有効期限切れか、すでに使用されています。管理者に再度の招待を依頼してください。",
    (None, "Members"): "メンバー",
    (None, "Name"): "氏名",
    (None, "Email address"): "メールアドレス",
    (None, "Role"): "ロール",
    (None, "Actions"): "操作",
    (None, "Change role"): "ロールを変更",
    (None, "Remove"): "削除",
    (None, "Open invitations"): "承諾待ちの招待",
    (None, "Expires"): "有効期限",
    (None, "Revoke"): "取り消す",
    (None, "Invite a member"): "メンバーを招待",
    (None, "Send invitation"): "招待メールを送信",
    (None, "Skip to content"): "本文へ移動",
    (None, "MSP console"): "MSP 管理コンソール",
    (None, "Main"): "メイン",
    (None, "Tenants"): "テナント",
    (None, "Dashboard"): "ダッシュボード",
    (None, "Language"): "言語",
    (None, "Change password"): "パスワードの変更",
    (None, "Two-factor authentication"): "二要素認証",
    (None, "Email addresses"): "メールアドレス設定",
    (None, "Sign out"): "サインアウト",
    (None, "Sign in"): "サインイン",
    (
        None,
        "Managed mail for Azure Communication Services",
    ): "Azure Communication Services のマネージドメール",
    (
        None,
        "You have been invited to the mail portal of %(tenant_name)s as %(role)s.",
    ): "%(tenant_name)s のメールポータルに「%(role)s」として招待されました。",
    (None, "Invited by: %(inviter)s"): "招待者: %(inviter)s",
    (None, "Create your account"): "アカウントを作成する",
    (
        None,
        "The link is valid until %(date)s.",
    ): "このリンクの有効期限は %(date)s です。",
    (
        None,
        "If you did not expect this invitation, you can ignore this message.",
    ): "お心当たりのない場合は、このメールを破棄してください。",
    (
        None,
        "Open this link to create your account:",
    ): "次のリンクからアカウントを作成してください:",
    (
        None,
        "Invitation to the %(tenant_name)s mail portal",
    ): "%(tenant_name)s メールポータルへのご招待",
    (
        None,
        "Welcome to the mail portal of %(name)s.",
    ): "%(name)s のメールポータルへようこそ。",
    (None, "Your account"): "アカウント",
    (None, "Plan"): "プラン",
    (None, "Customer since"): "ご利用開始日",
    (None, "Getting started"): "はじめに",
    (
        None,
        "Invite your colleagues and give each a role.",
    ): "同僚を招待し、それぞれにロールを割り当てます。",
    (
        None,
        "Add your sending domain and publish its DNS records.",
    ): "送信ドメインを追加し、DNS レコードを登録します。",
    (
        None,
        "Create SMTP credentials for printers and applications.",
    ): "複合機や業務アプリ用の SMTP 認証情報を作成します。",
    (None, "Manage members"): "メンバーを管理",
    (None, "Welcome"): "ようこそ",
    (
        None,
        "Keep multifunction printers, business applications and customer notices sending after Exchange Online retires SMTP basic authentication. Each customer company has its own portal.",
    ): "Exchange Online の SMTP 基本認証が廃止された後も、複合機・業務アプリ・お客様へのお知らせメールを送り続けられます。お客様の会社ごとに専用のポータルがあります。",
    (
        None,
        "Customer administrators: open your company's portal address (for example sakura.localhost).",
    ): "お客様の管理者の方は、自社のポータルのアドレス（例: sakura.localhost）を開いてください。",
    (None, "MSP staff sign-in"): "MSP スタッフのサインイン",
    (None, "Staff audit log"): "スタッフ監査ログ",
    (
        None,
        "Actions taken by MSP staff on the tenant registry.",
    ): "MSP スタッフによるテナント管理操作の記録です。",
    (None, "Portal suspended"): "ポータル停止中",
    (None, "This portal is suspended"): "このポータルは一時停止されています",
    (
        None,
        "The portal of %(name)s is temporarily unavailable. Your data and settings are kept. Please contact your service provider.",
    ): "%(name)s のポータルは現在ご利用いただけません。データと設定はそのまま保持されています。ご契約のサービス提供元にお問い合わせください。",
    (None, "New tenant"): "テナントの新規作成",
    (
        None,
        "Creates the customer's portal and sends an invitation to its first owner. If any step fails, nothing is created.",
    ): "お客様のポータルを作成し、最初のオーナーに招待メールを送ります。途中で失敗した場合は何も作成されません。",
    (None, "Create tenant"): "テナントを作成",
    (None, "Contract"): "契約情報",
    (None, "Identifier"): "識別子",
    (None, "Billing contact"): "請求先担当者",
    (None, "Corporate number"): "法人番号",
    (None, "Created"): "作成日",
    (None, "Status"): "状態",
    (None, "Suspend portal"): "ポータルを停止",
    (None, "Reason"): "理由",
    (None, "Resume portal"): "ポータルを再開",
    (None, "invited"): "招待中",
    (None, "Recent activity in the portal"): "ポータル内の最近の操作",
    (None, "Staff actions"): "スタッフの操作",
    (None, "Search"): "検索",
    (None, "All"): "すべて",
    (None, "Active"): "利用中",
    (None, "Suspended"): "停止中",
    (None, "Company"): "会社名",
    (None, "Host"): "ホスト",
    (None, "No tenants match."): "該当するテナントはありません。",
    (None, "Accounts"): "アカウント",
    (None, "Your name"): "氏名",
    (None, "Password"): "パスワード",
    (None, "Password (again)"): "パスワード（確認）",
    (None, "The two passwords differ."): "2 つのパスワードが一致しません。",
    (None, "From"): "開始日",
    (None, "To"): "終了日",
    (None, "email address"): "メールアドレス",
    (None, "name"): "氏名",
    (None, "role"): "ロール",
    (None, "active"): "有効",
    (None, "MSP staff"): "MSP スタッフ",
    (None, "joined"): "登録日",
    (None, "language"): "言語",
    (None, "user"): "ユーザー",
    (None, "users"): "ユーザー",
    (None, "expires"): "有効期限",
    (None, "Owner"): "オーナー",
    (None, "Administrator"): "管理者",
    (None, "Viewer"): "閲覧者",
    (None, "Your role does not allow this action."): "この操作を行う権限がありません。",
    (None, "You cannot give this role."): "このロールを割り当てる権限がありません。",
    (None, "Unknown role."): "不明なロールです。",
    (None, "This address is already a member."): "このアドレスはすでにメンバーです。",
    (
        None,
        "An invitation to this address is still open.",
    ): "このアドレスへの招待はまだ有効です。",
    (None, "This invitation is no longer open."): "この招待はすでに終了しています。",
    (
        None,
        "The last owner cannot be changed or removed.",
    ): "最後のオーナーは変更・削除できません。先に別のオーナーを追加してください。",
    (
        None,
        "You cannot remove a member with this role.",
    ): "このロールのメンバーを削除する権限がありません。",
    (None, "Invitation sent to %(email)s."): "%(email)s に招待メールを送信しました。",
    (None, "Choose a valid role."): "有効なロールを選んでください。",
    (None, "Role updated."): "ロールを変更しました。",
    (None, "%(email)s was removed."): "%(email)s を削除しました。",
    (None, "Invitation revoked."): "招待を取り消しました。",
    (
        None,
        "Welcome! Your account is ready.",
    ): "ようこそ。アカウントの準備ができました。",
    (None, "Company name"): "会社名",
    (None, "Identifier (host name)"): "識別子（ホスト名）",
    (
        None,
        "Used in the portal address: <identifier>.%(domain)s",
    ): "ポータルのアドレスに使われます: <識別子>.%(domain)s",
    (None, "Owner's email address"): "オーナーのメールアドレス",
    (None, "Billing contact email"): "請求先メールアドレス",
    (None, "Corporate number (13 digits)"): "法人番号（13 桁）",
    (
        None,
        "Use 3–32 characters: lower-case letters, digits and hyphens, starting with a letter.",
    ): "英小文字・数字・ハイフンの 3〜32 文字で、英小文字で始めてください。",
    (None, "Template"): "テンプレート",
    (None, "Lite"): "ライト",
    (None, "Standard"): "スタンダード",
    (None, "Premium"): "プレミアム",
    (None, "display name"): "表示名",
    (None, "status"): "状態",
    (None, "plan"): "プラン",
    (None, "billing contact"): "請求先担当者",
    (None, "billing contact email"): "請求先メールアドレス",
    (None, "corporate number"): "法人番号",
    (None, "Enter 13 digits."): "13 桁の数字を入力してください。",
    (None, "suspension reason"): "停止理由",
    (None, "created"): "作成日時",
    (None, "updated"): "更新日時",
    (None, "tenant"): "テナント",
    (None, "tenants"): "テナント",
    (None, "domain"): "ドメイン",
    (None, "domains"): "ドメイン",
    (
        None,
        "This identifier is reserved.",
    ): "この識別子は予約されているため使えません。",
    (None, "Enter the company name."): "会社名を入力してください。",
    (None, "Enter a valid email address."): "有効なメールアドレスを入力してください。",
    (None, "This identifier is already in use."): "この識別子はすでに使われています。",
    (None, "This tenant cannot be changed."): "このテナントは変更できません。",
    (
        None,
        "Tenant %(name)s was created and %(email)s was invited as owner.",
    ): "テナント「%(name)s」を作成し、%(email)s をオーナーとして招待しました。",
    (None, "Enter the reason for the suspension."): "停止の理由を入力してください。",
    (
        None,
        "The tenant was suspended. Its data is kept.",
    ): "テナントを停止しました。データは保持されています。",
    (None, "The tenant was resumed."): "テナントを再開しました。",
    (None, "Sign In"): "ログイン",
    (None, "Sign in with a passkey"): "パスキーでログイン",
    (None, "Send me a sign-in code"): "ログインコードを送信する",
    (
        None,
        "Accounts are created by invitation from your administrator.",
    ): "アカウントは管理者からの招待で作成されます。",
    # --- Mail: CSV import/export (mailops/csvio.py) ---
    (
        None,
        "Unsupported encoding: %(encoding)s.",
    ): "対応していない文字コードです: %(encoding)s。",
    (
        None,
        'The file starts with a UTF-8 byte order mark (Excel\'s "CSV UTF-8" format).',
    ): "ファイルの先頭に UTF-8 の BOM（バイトオーダーマーク）があります（Excel の「CSV UTF-8」形式）。",
    (
        None,
        'The file is UTF-16 text (Excel\'s "Unicode Text" format). Save it from Excel as "CSV UTF-8 (comma delimited)" and upload it again.',
    ): "ファイルは UTF-16 のテキストです（Excel の「Unicode テキスト」形式）。Excel で「CSV UTF-8 (コンマ区切り)」形式で保存し直して、もう一度アップロードしてください。",
    (
        None,
        'This is an Excel workbook, not a CSV file. In Excel, use "Save As" and choose "CSV UTF-8 (comma delimited)".',
    ): "このファイルは CSV ではなく Excel ブックです。Excel の「名前を付けて保存」で「CSV UTF-8 (コンマ区切り)」を選んで保存してください。",
    (None, "The file is empty."): "ファイルが空です。",
    (
        None,
        "The beginning of the file contains only ASCII characters, so it reads the same as UTF-8 or Shift_JIS.",
    ): "ファイルの先頭部分は ASCII 文字だけのため、UTF-8 と Shift_JIS のどちらで読み込んでも同じ内容になります。",
    (
        None,
        "The file is valid UTF-8 (without a byte order mark).",
    ): "ファイルは正しい UTF-8 です（BOM なし）。",
    (
        None,
        'The file is not UTF-8 but is valid Shift_JIS (Excel\'s default "CSV" format in Japan).',
    ): "ファイルは UTF-8 ではありませんが、正しい Shift_JIS です（日本語版 Excel の標準の「CSV」形式）。",
    (
        None,
        'The file is neither UTF-8 nor Shift_JIS. Save it from Excel as "CSV UTF-8 (comma delimited)" and upload it again.',
    ): "ファイルは UTF-8 でも Shift_JIS でもありません。Excel で「CSV UTF-8 (コンマ区切り)」形式で保存し直して、もう一度アップロードしてください。",
    (
        None,
        "Line %(line)s cannot be read as %(encoding)s. Choose a different encoding and try again.",
    ): "%(line)s 行目を %(encoding)s として読み込めません。別の文字コードを選んで、もう一度お試しください。",
    (
        None,
        "The CSV file is malformed near line %(line)s (%(detail)s). Check for an unmatched double quote.",
    ): '%(line)s 行目付近で CSV ファイルの形式が正しくありません（%(detail)s）。ダブルクォート（"）の閉じ忘れがないか確認してください。',
    (
        None,
        "No email address column was found. Put a header such as %(names)s in the first row.",
    ): "メールアドレスの列が見つかりません。1 行目に %(names)s などの見出しを入れてください。",
    (
        None,
        "The file has no header row. Add a header row with these columns: %(columns)s.",
    ): "ファイルに見出し行がありません。次の列の見出し行を追加してください: %(columns)s。",
    (
        None,
        "Required columns are missing from the header row: %(columns)s.",
    ): "見出し行に必須の列がありません: %(columns)s。",
    (
        None,
        "Addresses with an IP address instead of a domain name are not supported.",
    ): "ドメイン名の代わりに IP アドレスを使ったメールアドレスには対応していません。",
    (
        None,
        'The domain "%(domain)s" is not a valid domain name.',
    ): "「%(domain)s」は有効なドメイン名ではありません。",
    (
        None,
        'The domain "%(domain)s" has no dot; a full domain such as example.co.jp is needed.',
    ): "ドメイン「%(domain)s」にドット（.）がありません。example.co.jp のような完全なドメイン名が必要です。",
    (None, "The email address is empty."): "メールアドレスが空です。",
    (None, "The email address has no @."): "メールアドレスに @ がありません。",
    (
        None,
        "The email address is longer than 254 characters.",
    ): "メールアドレスが 254 文字を超えています。",
    (
        None,
        "The email address contains a space.",
    ): "メールアドレスに空白が含まれています。",
    (
        None,
        "The email address contains more than one @.",
    ): "メールアドレスに @ が複数含まれています。",
    (None, "There is nothing before the @."): "@ の前に文字がありません。",
    (None, "There is nothing after the @."): "@ の後に文字がありません。",
    (
        None,
        "Only ASCII letters, digits and symbols can be used before the @ (no Japanese characters).",
    ): "@ の前には半角の英数字と記号だけが使えます（日本語は使えません）。",
    (
        None,
        "These characters cannot be used before the @: %(chars)s",
    ): "@ の前には次の文字は使えません: %(chars)s",
    (
        None,
        "The part before the @ is longer than 64 characters.",
    ): "@ の前の部分が 64 文字を超えています。",
    (
        None,
        "The part before the @ starts with a dot.",
    ): "@ の前の部分がドット（.）で始まっています。",
    (
        None,
        "This mobile-carrier address has consecutive dots or a dot before the @. The carrier delivers to it, but some mail servers may refuse it.",
    ): "この携帯電話会社のアドレスには、連続したドットか @ の直前のドットがあります。携帯電話会社には配信されますが、一部のメールサーバーでは拒否される場合があります。",
    (
        None,
        "The email address contains consecutive dots.",
    ): "メールアドレスにドットが連続しています。",
    (None, "There is a dot right before the @."): "@ の直前にドットがあります。",
    (
        None,
        "Row %(row)s contains characters that cannot be saved as %(encoding)s: %(chars)s. Export as UTF-8 instead.",
    ): "%(row)s 行目に %(encoding)s で保存できない文字が含まれています: %(chars)s。UTF-8 でエクスポートしてください。",
    # --- Mail: DNS check (mailops/dnslint.py) ---
    (
        None,
        "The DNS server did not answer the query for %(name)s in time.",
    ): "%(name)s の問い合わせに DNS サーバーが時間内に応答しませんでした。",
    (
        None,
        "The DNS query for %(name)s failed (%(detail)s).",
    ): "%(name)s の DNS 問い合わせに失敗しました（%(detail)s）。",
    (
        None,
        "The domain verification TXT record is published.",
    ): "ドメイン検証用の TXT レコードが登録されています。",
    (
        None,
        "The verification TXT record contains literal quote characters. Re-enter the value without the surrounding quotes.",
    ): '検証用 TXT レコードの値に引用符（"）が文字として含まれています。前後の引用符を付けずに値を入力し直してください。',
    (
        None,
        "A different verification value is published at %(name)s; it is probably left over from an earlier setup. Publish the current value (the old one can be removed).",
    ): "%(name)s には別の検証用の値が登録されています。以前のセットアップで登録したものが残っている可能性があります。現在の値を登録してください（古い値は削除してかまいません）。",
    (
        None,
        "The domain verification TXT record was not found at %(name)s.",
    ): "%(name)s にドメイン検証用の TXT レコードが見つかりません。",
    (
        None,
        "The SPF record of %(domain)s contains an unknown term %(term)s; receivers treat the whole record as invalid.",
    ): "%(domain)s の SPF レコードに不明な項目 %(term)s が含まれています。受信側はレコード全体を無効として扱います。",
    (
        None,
        "The SPF term %(term)s in %(domain)s has no domain.",
    ): "%(domain)s の SPF の項目 %(term)s にドメインが指定されていません。",
    (
        None,
        "%(term)s uses SPF macros, which depend on each message and cannot be checked in advance; the lookups below it are not counted.",
    ): "%(term)s は SPF マクロを使用しています。マクロはメッセージごとに展開されるため事前に確認できず、その先の DNS 参照は回数に含めていません。",
    (
        None,
        "The SPF records include each other in a loop (%(chain)s); receivers stop with an error.",
    ): "SPF レコードが互いに include し合ってループしています（%(chain)s）。受信側ではエラーとなり、評価が中断されます。",
    (
        None,
        "%(term)s points to %(target)s, which has no SPF record; receivers treat this as a permanent error.",
    ): "%(term)s の参照先 %(target)s には SPF レコードがありません。受信側は恒久的エラー（permerror）として扱います。",
    (
        None,
        "%(target)s (used by %(term)s) publishes %(count)s SPF records; receivers treat this as a permanent error.",
    ): "%(target)s（%(term)s で参照）には SPF レコードが %(count)s 件登録されています。受信側は恒久的エラー（permerror）として扱います。",
    (
        None,
        "The SPF record contains literal quote characters, so receivers do not recognise it. Re-enter it without the surrounding quotes.",
    ): 'SPF レコードに引用符（"）が文字として含まれているため、受信側で SPF レコードとして認識されません。前後の引用符を付けずに入力し直してください。',
    (
        None,
        "No SPF record (v=spf1) was found at %(name)s.",
    ): "%(name)s に SPF レコード（v=spf1）が見つかりません。",
    (
        None,
        "%(count)s SPF records are published at %(name)s. A domain may have only one; with several, every receiver fails SPF (RFC 7208 permerror). Merge them into one record.",
    ): "%(name)s に SPF レコードが %(count)s 件登録されています。SPF レコードは 1 つのドメインに 1 件だけ登録できます。複数あると、すべての受信側で SPF が失敗します（RFC 7208 の permerror）。1 件のレコードにまとめてください。",
    (
        None,
        "The SPF record needs %(count)s DNS lookups; the limit is %(limit)s, beyond which receivers fail SPF. Remove senders you no longer use or replace includes with ip4:/ip6: ranges.",
    ): "SPF レコードの評価に DNS 参照が %(count)s 回必要です。上限は %(limit)s 回で、超えると受信側で SPF が失敗します。使わなくなった送信サービスを削除するか、include を ip4:/ip6: の範囲指定に置き換えてください。",
    (
        None,
        "The SPF record does not authorise Azure Communication Services: add include:%(include)s to the existing record (do not create a second SPF record).",
    ): "SPF レコードで Azure Communication Services が許可されていません。既存のレコードに include:%(include)s を追加してください（SPF レコードを新たにもう 1 件作成しないでください）。",
    (
        None,
        "The SPF record authorises ACS (%(count)s DNS lookups).",
    ): "SPF レコードで ACS が許可されています（DNS 参照 %(count)s 回）。",
    (
        None,
        "The SPF record already contains include:%(include)s. Azure Communication Services and Microsoft 365 share this include, so no second include and no second SPF record are needed.",
    ): "SPF レコードにはすでに include:%(include)s が含まれています。Azure Communication Services と Microsoft 365 はこの include を共用するため、include や SPF レコードを追加する必要はありません。",
    (
        None,
        "The SPF record ends with ~all (soft fail). ACS requires -all; ~all makes domain verification fail.",
    ): "SPF レコードの末尾が ~all（ソフトフェイル）です。ACS では -all が必要で、~all のままではドメインの検証に失敗します。",
    (
        None,
        "The SPF record ends with ?all (neutral). ACS requires -all.",
    ): "SPF レコードの末尾が ?all（ニュートラル）です。ACS では -all が必要です。",
    (
        None,
        "The SPF record ends with +all, which lets any server on the internet send as this domain. ACS requires -all.",
    ): "SPF レコードの末尾が +all のため、インターネット上のどのサーバーからでもこのドメインとして送信できてしまいます。ACS では -all が必要です。",
    (
        None,
        "The SPF record has no 'all' term. ACS requires it to end with -all.",
    ): "SPF レコードに all の指定がありません。ACS では末尾を -all にする必要があります。",
    (None, "The DKIM record is published."): "DKIM レコードが登録されています。",
    (
        None,
        "The DKIM TXT record at %(name)s is missing or different.",
    ): "%(name)s の DKIM の TXT レコードがないか、値が異なります。",
    (
        None,
        "The DKIM CNAME record points to ACS.",
    ): "DKIM の CNAME レコードが ACS を指しています。",
    (
        None,
        "The CNAME at %(name)s points to %(found)s instead of %(expected)s.",
    ): "%(name)s の CNAME が %(expected)s ではなく %(found)s を指しています。",
    (
        None,
        "%(name)s has a TXT record, but ACS needs a CNAME record pointing to %(expected)s. Delete the TXT record and add the CNAME.",
    ): "%(name)s には TXT レコードがありますが、ACS では %(expected)s を指す CNAME レコードが必要です。TXT レコードを削除して CNAME レコードを追加してください。",
    (
        None,
        "No CNAME record was found at %(name)s.",
    ): "%(name)s に CNAME レコードが見つかりません。",
    (
        None,
        "No DMARC record at %(name)s; receivers apply the policy of %(parent)s (its sp= tag, or p=).",
    ): "%(name)s に DMARC レコードはありません。受信側は %(parent)s のポリシー（sp= タグ、なければ p= タグ）を適用します。",
    (
        None,
        "No DMARC record was found at %(name)s. ACS verification does not require it, but Gmail and Yahoo require DMARC from bulk senders; start with p=none and tighten later.",
    ): "%(name)s に DMARC レコードが見つかりません。ACS の検証には不要ですが、Gmail と Yahoo は大量送信者に DMARC を求めています。まず p=none で登録し、後からポリシーを強化してください。",
    (
        None,
        "%(count)s DMARC records are published at %(name)s; receivers ignore DMARC entirely. Keep exactly one.",
    ): "%(name)s に DMARC レコードが %(count)s 件登録されているため、受信側は DMARC をまったく適用しません。1 件だけにしてください。",
    (
        None,
        "The DMARC record has no valid p= tag (none, quarantine or reject), so receivers ignore it.",
    ): "DMARC レコードに有効な p= タグ（none、quarantine、reject のいずれか）がないため、受信側で無視されます。",
    (
        None,
        "The DMARC policy is p=none: reports only, spoofed mail is still delivered. Move to p=quarantine once reports show all legitimate mail passes.",
    ): "DMARC ポリシーは p=none です。レポートを受け取るだけで、なりすましメールも配信されます。正規のメールがすべて認証に合格していることをレポートで確認できたら、p=quarantine に移行してください。",
    (None, "The DMARC policy is p=%(policy)s."): "DMARC ポリシーは p=%(policy)s です。",
    # --- Mail: how to publish the records, per DNS host (mailops/dnslint.py) ---
    (
        None,
        "Enter TXT values exactly as shown, without adding quote characters (unless the host asks for them).",
    ): 'TXT の値は表示どおりに入力し、引用符（"）は付けないでください（DNS サービス側で求められる場合を除きます）。',
    (
        None,
        "Edit an existing SPF (v=spf1) record instead of adding a second one; use the merged value the portal suggests.",
    ): "SPF レコード（v=spf1）がすでにある場合は、もう 1 件追加せずに既存のレコードを編集し、ポータルが提示する統合後の値を使ってください。",
    (
        None,
        "Changes usually appear within minutes, but resolvers may keep the old answer until its TTL expires (up to a few hours). Then run the check again.",
    ): "変更は通常数分で反映されますが、DNS キャッシュサーバーが TTL の期限まで（最大で数時間）古い応答を返すことがあります。反映後にもう一度チェックを実行してください。",
    (
        None,
        'Log in to お名前.com Navi and open the DNS settings of the domain ("DNS設定/転送設定"), then choose "DNSレコード設定を利用する".',
    ): "お名前.com Navi にログインし、「ネームサーバーの設定」→「DNS設定/転送設定」で対象のドメインを選んで「次へ」をクリックし、「DNSレコード設定を利用する」の「設定する」をクリックします（メニューの名称は画面の改修で変わることがあります）。",
    (
        None,
        "These settings only take effect if the domain uses お名前.com's name servers (dnsv.jp). If it uses a rental server's name servers, edit the records there instead.",
    ): "この設定が有効になるのは、ドメインがお名前.com のネームサーバー（01.dnsv.jp〜04.dnsv.jp）を使っている場合だけです。レンタルサーバーのネームサーバーを使っている場合は、そちらの管理画面でレコードを設定してください。",
    (
        None,
        "For records at the domain itself (verification TXT, SPF) leave the host name field empty; for the others enter only the part before your domain, e.g. _dmarc or selector1-azurecomm-prod-net._domainkey.",
    ): "ドメイン自体のレコード（検証用 TXT、SPF）は「ホスト名」を空欄にし、それ以外はドメインより前の部分だけ（例: _dmarc、selector1-azurecomm-prod-net._domainkey）を入力します。",
    (
        None,
        'Add each record, click "追加", then confirm at the bottom of the page and click "設定する"; records are not saved until you do.',
    ): "レコードを 1 件ずつ入力して「追加」をクリックし、ページ下部の「確認画面へ進む」をクリックして、確認画面で「設定する」をクリックします。「設定する」をクリックするまでレコードは保存されません。",
    (
        None,
        'Log in to the さくらインターネット member menu, open the domain list and click "ゾーン編集" for the domain.',
    ): "さくらインターネットの会員メニューにログインし、ドメイン一覧で対象ドメインの「ゾーン編集」をクリックします（新しいドメインコントロールパネルでは、ドメインの「ゾーン」の「編集」から開く場合があります）。",
    (
        None,
        'Use "@" as the entry name for records at the domain itself; for the others enter only the part before your domain (e.g. _dmarc).',
    ): "ドメイン自体のレコードは「エントリ名」に「@」を入力し、それ以外はドメインより前の部分だけ（例: _dmarc）を入力します。",
    (
        None,
        "For CNAME targets enter the full name. If the saved entry shows your own domain appended to the target, re-enter it ending with a dot (…azurecomm.net.).",
    ): "CNAME の値には完全なドメイン名を入力します。保存後の値の末尾に自社のドメインが付け加えられている場合は、末尾にドットを付けて（…azurecomm.net.）入力し直してください。",
    (
        None,
        'Save the zone ("データ送信" / save) after adding the records.',
    ): "レコードを追加したら「データ送信」（新しい画面では「保存する」）をクリックして、ゾーンを保存します。",
    (
        None,
        'In the Xserver server panel (or Xserverアカウント for Xserver Domain), open "DNSレコード設定" and select the domain.',
    ): "Xserver のサーバーパネル（Xserverドメインの場合は Xserverアカウント）で「DNSレコード設定」を開き、対象のドメインを選択します。",
    (
        None,
        "Xserver creates a default SPF record ending in ~all. Edit that record to the merged value ending in -all rather than adding a new one.",
    ): "Xserver では、末尾が ~all の SPF レコードが初期設定で登録されています。新しく追加せずに、そのレコードを -all で終わる統合後の値に編集してください。",
    (
        None,
        "Leave the host name empty for records at the domain itself; for the others enter only the part before your domain.",
    ): "ドメイン自体のレコードは「ホスト名」を空欄にし、それ以外はドメインより前の部分だけを入力します。",
    (
        None,
        'Click "確認画面へ進む" and then "追加する" to save each record.',
    ): "レコードごとに「確認画面へ進む」をクリックし、続けて「追加する」をクリックして保存します。",
    (
        None,
        'In the AWS console open Route 53 → Hosted zones, select the public hosted zone of the domain and click "Create record".',
    ): "AWS マネジメントコンソールで Route 53 の「ホストゾーン」（Hosted zones）を開き、ドメインのパブリックホストゾーンを選択して「レコードを作成」（Create record）をクリックします。",
    (
        None,
        'Leave "Record name" empty for records at the domain itself; Route 53 appends the domain to anything you enter.',
    ): "ドメイン自体のレコードは「レコード名」（Record name）を空欄にします。入力した値には Route 53 がドメイン名を自動的に付け加えます。",
    (
        None,
        'Route 53 requires TXT values in double quotes: enter "v=spf1 … -all" with one pair of quotes; a value longer than 255 characters must be split into several quoted strings. Put all TXT values for the same name in one record, one per line.',
    ): 'Route 53 では TXT の値をダブルクォートで囲む必要があります。"v=spf1 … -all" のように 1 組の引用符で囲んで入力し、255 文字を超える値は引用符で囲んだ複数の文字列に分割します。同じ名前の TXT の値はすべて 1 つのレコードにまとめ、1 行に 1 つずつ入力します。',
    (
        None,
        "Check that the domain's NS records at the registrar point to this hosted zone; otherwise the records are not used.",
    ): "レジストラに登録されているドメインの NS レコードが、このホストゾーンを指していることを確認してください。指していない場合、レコードは使われません。",
    (
        None,
        'In the Cloudflare dashboard select the domain, open DNS → Records and click "Add record".',
    ): "Cloudflare のダッシュボードでドメインを選択し、「DNS」→「レコード」（Records）を開いて「レコードを追加」（Add record）をクリックします。",
    (
        None,
        'Use "@" as the name for records at the domain itself; Cloudflare appends the domain to other names.',
    ): "ドメイン自体のレコードは「名前」に「@」を入力します。それ以外の名前には Cloudflare がドメイン名を自動的に付け加えます。",
    (
        None,
        'Set the DKIM CNAME records to "DNS only" (grey cloud). A proxied CNAME hides the target and DKIM verification fails.',
    ): "DKIM の CNAME レコードは「DNS のみ」（DNS only、グレーの雲）に設定してください。プロキシを有効にすると参照先が隠れ、DKIM の検証に失敗します。",
    (
        None,
        "Enter TXT content without quotes; Cloudflare adds them itself.",
    ): "TXT の「コンテンツ」は引用符なしで入力します。引用符は Cloudflare が付け加えます。",
    (
        None,
        "Open the DNS or zone settings of the domain at the company that runs its name servers (check the NS records if unsure).",
    ): "ドメインのネームサーバーを運用している事業者の管理画面で、DNS 設定（ゾーン設定）を開きます（わからない場合は NS レコードで確認してください）。",
    (
        None,
        'For records at the domain itself the host field is usually "@" or empty; for the others enter the part before your domain.',
    ): "ドメイン自体のレコードのホスト名は、通常「@」または空欄です。それ以外はドメインより前の部分を入力します。",
    (
        None,
        "Add the TXT and CNAME records exactly as listed and save the zone.",
    ): "TXT レコードと CNAME レコードを一覧のとおりに追加し、ゾーンを保存します。",
    # --- Mail: forms and models ---
    (
        None,
        "For example mail.example.co.jp. Japanese domain names are accepted.",
    ): "例: mail.example.co.jp。日本語ドメイン名も使用できます。",
    (None, "Domain name"): "ドメイン名",
    (None, "Local part (before @)"): "ローカル部（@ より前）",
    (None, "Display name"): "表示名",
    (None, "Type"): "種類",
    (None, "Vendor"): "メーカー",
    (None, "Model"): "機種",
    (None, "Location"): "設置場所",
    (None, "Person in charge"): "担当者",
    (None, "Sender address"): "送信元アドレス",
    (
        None,
        "The device must send From this address.",
    ): "機器の差出人（From）には、このアドレスを設定する必要があります。",
    (None, "Password lifetime (months)"): "パスワードの有効期間（か月）",
    (
        None,
        "Keep the old password working for (days)",
    ): "旧パスワードを引き続き使える期間（日）",
    (None, "Send the test message to"): "テストメールの送信先",
    (None, "Notes"): "メモ",
    (None, "CSV file"): "CSV ファイル",
    (None, "Character encoding"): "文字コード",
    (None, "Detect automatically"): "自動判定",
    (
        None,
        "Azure-managed domain (5/min, 10/h)",
    ): "Azure マネージドドメイン（5 通/分、10 通/時）",
    (None, "Default (30/min, 100/h)"): "標準（30 通/分、100 通/時）",
    (None, "Raised (approved by Microsoft)"): "引き上げ済み（Microsoft の承認済み）",
    (None, "Waiting to start"): "開始待ち",
    (None, "Provisioning"): "準備中",
    (None, "Ready"): "利用可能",
    (None, "Failed"): "失敗",
    (None, "subscription"): "サブスクリプション",
    (None, "resource group"): "リソースグループ",
    (None, "location"): "設置場所",
    (None, "Custom domain"): "カスタムドメイン",
    (None, "Azure-managed domain"): "Azure マネージドドメイン",
    (None, "Creating"): "作成中",
    (None, "Waiting for DNS records"): "DNS レコード待ち",
    (None, "Verifying"): "検証中",
    (None, "Verified"): "検証済み",
    (None, "Deleting"): "削除中",
    (None, "linked"): "接続済み",
    (None, "local part"): "ローカル部",
    (None, "Multifunction printer"): "複合機",
    (None, "Business application"): "業務アプリ",
    ("device kind", "Other"): "その他",
    ("vendor", "Other"): "その他",
    (None, "Other"): "その他",
    (None, "Setup incomplete"): "セットアップ未完了",
    (None, "Revoked"): "失効",
    (None, "type"): "種類",
    (None, "vendor"): "メーカー",
    (None, "model"): "機種",
    (None, "person in charge"): "担当者",
    (None, "SMTP username"): "SMTP ユーザー名",
    (None, "Retiring (old secret still works)"): "切り替え中（旧パスワードも有効）",
    (None, "notes"): "メモ",
    # --- Mail: service errors ---
    (
        None,
        "ACS resources have not been set up for this tenant yet.",
    ): "このテナントの ACS リソースはまだセットアップされていません。",
    (
        None,
        "ACS resources are still being prepared. Try again shortly.",
    ): "ACS リソースを準備中です。しばらくしてからもう一度お試しください。",
    (
        None,
        "Azure is throttling requests right now. Please try again in a minute.",
    ): "現在 Azure がリクエストを制限しています。1 分ほど待ってからもう一度お試しください。",
    (
        None,
        "Azure did not respond correctly. The portal will retry; please check back.",
    ): "Azure から正常な応答がありませんでした。ポータルが自動で再試行しますので、しばらくしてからご確認ください。",
    (
        None,
        "Azure refused the request: %(detail)s",
    ): "Azure がリクエストを拒否しました: %(detail)s",
    (
        None,
        "Choose a lifetime between 1 and %(max)d months.",
    ): "有効期間は 1〜%(max)d か月の範囲で指定してください。",
    (
        None,
        "Enter a name for the device or application.",
    ): "機器またはアプリの名前を入力してください。",
    (
        None,
        "Choose a sender address on a verified domain linked to your Communication Service.",
    ): "検証済みで Communication Service に接続されたドメインの送信元アドレスを選んでください。",
    (
        None,
        "This credential does not need to be finished.",
    ): "この認証情報には、完了が必要なセットアップはありません。",
    (
        None,
        "Only active credentials can be rotated.",
    ): "ローテーションできるのは有効な認証情報だけです。",
    (
        None,
        "SMTP credential %(label)s expires in %(days)d days",
    ): "SMTP 認証情報「%(label)s」の有効期限まであと %(days)d 日",
    (
        None,
        "The password of %(label)s (%(username)s) expires on %(date)s. Rotate it in the portal and update the device before then.",
    ): "%(label)s（%(username)s）のパスワードは %(date)s に有効期限が切れます。それまでにポータルでパスワードをローテーションし、機器の設定を更新してください。",
    (None, "Enter a domain name."): "ドメイン名を入力してください。",
    (
        None,
        "Enter only the domain name, for example mail.example.co.jp.",
    ): "ドメイン名だけを入力してください（例: mail.example.co.jp）。",
    (None, "This is not a valid domain name."): "有効なドメイン名ではありません。",
    (
        None,
        "Azure-managed domains are created with the ACS resources.",
    ): "Azure マネージドドメインは ACS リソースと一緒に作成されます。",
    (
        None,
        "This domain has already been added.",
    ): "このドメインはすでに追加されています。",
    (
        None,
        "The domain is not ready for verification yet.",
    ): "このドメインはまだ検証できる状態ではありません。",
    (
        None,
        "Azure-managed domains are verified already.",
    ): "Azure マネージドドメインは検証済みです。",
    (
        None,
        "Only verified domains can be linked.",
    ): "Communication Service に接続できるのは検証済みのドメインだけです。",
    (
        None,
        "Revoke the SMTP credentials that use this domain first.",
    ): "先に、このドメインを使用している SMTP 認証情報を失効させてください。",
    (
        None,
        "The Azure-managed domain cannot be removed here.",
    ): "Azure マネージドドメインはここでは削除できません。",
    (
        None,
        "Remove its sender addresses and credentials first.",
    ): "先に、このドメインの送信元アドレスと認証情報を削除してください。",
    (
        None,
        "Use 1–64 letters, digits, dots, hyphens or underscores; start and end with a letter or digit.",
    ): "英数字・ドット・ハイフン・アンダースコアの 1〜64 文字で、先頭と末尾は英数字にしてください。",
    (
        None,
        "Sender addresses need a verified domain.",
    ): "送信元アドレスを追加するには、検証済みのドメインが必要です。",
    (
        None,
        "This sender address already exists.",
    ): "この送信元アドレスはすでに登録されています。",
    (
        None,
        "This address is already suppressed.",
    ): "このアドレスはすでに配信停止リストに登録されています。",
    (
        None,
        "The file could not be read as %(encoding)s. Choose another encoding.",
    ): "ファイルを %(encoding)s として読み込めませんでした。別の文字コードを選んでください。",
    (
        None,
        "The import was stopped and undone: %(reason)s",
    ): "取り込みを中止し、元に戻しました: %(reason)s",
    # --- Mail: SMTP test (mailops/smtp_check.py) ---
    (None, "SMTP test from the mail portal"): "メールポータルからの SMTP テスト",
    (
        None,
        "This is a test message. The SMTP settings of %(user)s work.",
    ): "これはテストメールです。%(user)s の SMTP 設定は正常に動作しています。",
    (
        None,
        "Sign-in was refused. Check the user name and password (copy them again).",
    ): "サインインが拒否されました。ユーザー名とパスワードを確認してください（もう一度コピーして貼り付けてください）。",
    (
        None,
        "The sender address was refused. Use exactly the sender address shown.",
    ): "送信元アドレスが拒否されました。表示されている送信元アドレスをそのまま使ってください。",
    (
        None,
        "The mail server refused the message.",
    ): "メールサーバーがメッセージを拒否しました。",
    (
        None,
        "The encrypted connection (STARTTLS) failed.",
    ): "暗号化接続（STARTTLS）に失敗しました。",
    (
        None,
        "The mail server could not be reached. Check the network and port 587.",
    ): "メールサーバーに接続できませんでした。ネットワークとポート 587 の通信を確認してください。",
    (
        None,
        "The test message was accepted. The settings work.",
    ): "テストメールが受け付けられました。設定は正常です。",
    # --- Mail: views (messages) ---
    (
        None,
        "Setting up the ACS resources. This takes a minute.",
    ): "ACS リソースをセットアップしています。1 分ほどかかります。",
    (
        None,
        "%(name)s was added. Publish the DNS records below.",
    ): "%(name)s を追加しました。以下の DNS レコードを登録してください。",
    (
        None,
        "Verification requested. The states update below.",
    ): "検証を開始しました。下の状態表示が自動で更新されます。",
    (None, "DNS checked."): "DNS を確認しました。",
    (
        None,
        "The domain is linked and can send mail.",
    ): "ドメインを Communication Service に接続しました。メールを送信できます。",
    (None, "The domain was unlinked."): "ドメインの接続を解除しました。",
    (None, "The domain was removed."): "ドメインを削除しました。",
    (None, "%(address)s was added."): "%(address)s を追加しました。",
    (None, "The sender address was removed."): "送信元アドレスを削除しました。",
    (None, "Check the rotation settings."): "ローテーションの設定を確認してください。",
    (
        None,
        "%(n)d old password(s) revoked.",
    ): "古いパスワード %(n)d 件を失効させました。",
    (
        None,
        "The credential was revoked. The device can no longer send.",
    ): "認証情報を失効させました。この機器からは送信できなくなりました。",
    (None, "Enter the recipient address."): "送信先アドレスを入力してください。",
    (
        None,
        "The address was added to the suppression list.",
    ): "アドレスを配信停止リストに追加しました。",
    (
        None,
        "The address was removed from the suppression list.",
    ): "アドレスを配信停止リストから削除しました。",
    (
        None,
        "The import has expired. Upload the file again.",
    ): "取り込みの有効期限が切れました。もう一度ファイルをアップロードしてください。",
    (None, "%(n)d addresses were imported."): "%(n)d 件のアドレスを取り込みました。",
    # --- Mail: templates ---
    (None, "Mail"): "メール",
    (None, "SMTP credentials"): "SMTP 認証情報",
    (None, "Setup sheet (without password)"): "設定シート（パスワードなし）",
    (None, "Device"): "機器",
    (None, "Last used"): "最終使用日時",
    (None, "SMTP settings"): "SMTP 設定",
    (None, "SMTP server"): "SMTP サーバー",
    (None, "User name"): "ユーザー名",
    (None, "Setup stopped"): "セットアップ中断",
    (None, "Passwords"): "パスワード",
    (None, "Hint"): "先頭文字",
    (None, "Issued"): "発行日",
    (None, "until"): "期限",
    (None, "Rotate password"): "パスワードのローテーション",
    (
        None,
        "Issues a new password; the old one keeps working during the grace period.",
    ): "新しいパスワードを発行します。猶予期間中は古いパスワードも引き続き使えます。",
    (None, "Issue new password"): "新しいパスワードを発行",
    (None, "Retire old passwords now"): "古いパスワードを今すぐ失効",
    (None, "Finish setup"): "セットアップを完了",
    (None, "Finish setup and issue password"): "セットアップを完了してパスワードを発行",
    (
        None,
        "Stops the device from sending immediately.",
    ): "この機器からの送信をただちに停止します。",
    (None, "Revoke now"): "今すぐ失効",
    (None, "New credential"): "新しい認証情報",
    (None, "New SMTP credential"): "新しい SMTP 認証情報",
    (
        None,
        "The password is shown once, right after creation, with a printable setup sheet.",
    ): "パスワードは作成直後に一度だけ、印刷用の設定シートとともに表示されます。",
    (
        None,
        "There is no sender address on a verified, linked domain yet. Add one under Mail first.",
    ): "検証済みで接続済みのドメインに、送信元アドレスがまだありません。先に「メール」で追加してください。",
    (None, "Create credential"): "認証情報を作成",
    (
        None,
        "One credential per printer or application, so each can be rotated or stopped on its own.",
    ): "複合機やアプリごとに認証情報を 1 つずつ作成します。それぞれ個別にローテーション・停止できます。",
    (None, "Password expires"): "パスワードの有効期限",
    (None, "Expired"): "期限切れ",
    (None, "%(n)s day left"): "残り %(n)s 日",
    (None, "No SMTP credentials yet."): "SMTP 認証情報はまだありません。",
    (None, "Credential created"): "認証情報を作成しました",
    (None, "New password issued"): "新しいパスワードを発行しました",
    (
        None,
        "Copy or print the password now. It is not stored and cannot be shown again.",
    ): "今すぐパスワードをコピーするか印刷してください。パスワードは保存されないため、再表示できません。",
    (None, "Copy"): "コピー",
    (None, "Copied"): "コピーしました",
    (None, "Port"): "ポート",
    (
        None,
        "The old password keeps working until you retire it or the grace period ends. Update the device, then retire the old password on the credential page.",
    ): "古いパスワードは、失効させるか猶予期間が終わるまで引き続き使えます。機器の設定を更新してから、認証情報のページで古いパスワードを失効させてください。",
    (None, "SMTP test"): "SMTP テスト",
    (
        None,
        "Signs in to the relay with this password, as the device will, and sends a test message.",
    ): "機器と同じようにこのパスワードでリレーサーバーにサインインし、テストメールを送信します。",
    (None, "Run SMTP test"): "SMTP テストを実行",
    (None, "Print setup sheet"): "設定シートを印刷",
    (None, "Done — go to the credential"): "完了（認証情報の画面へ）",
    (None, "Setup sheet"): "設定シート",
    (None, "Print"): "印刷",
    (None, "Verify now"): "今すぐ検証",
    (None, "Check DNS"): "DNS を確認",
    (None, "Link to Communication Service"): "Communication Service に接続",
    (None, "Unlink"): "接続を解除",
    (None, "Suppression list"): "配信停止リスト",
    (None, "Punycode"): "Punycode",
    (None, "DNS records to publish"): "登録する DNS レコード",
    (None, "Linked"): "接続済み",
    (None, "Creating the domain in Azure…"): "Azure でドメインを作成しています…",
    (None, "Record"): "レコード",
    (None, "Value"): "値",
    (None, "Verification"): "検証",
    (None, "Checking"): "検証中",
    (None, "Not started"): "未開始",
    (None, "DNS check"): "DNS チェック",
    (
        None,
        "SPF uses %(n)s of 10 DNS lookups.",
    ): "SPF の DNS 参照回数は 10 回中 %(n)s 回です。",
    (None, "Found"): "検出値",
    (None, "Publish"): "登録する値",
    (None, "How to publish the records"): "DNS レコードの登録方法",
    (None, "Your DNS host"): "ご利用の DNS サービス",
    (None, "Show"): "表示",
    (None, "Sender addresses"): "送信元アドレス",
    (None, "Address"): "アドレス",
    (None, "No sender addresses yet."): "送信元アドレスはまだありません。",
    (None, "Add sender"): "送信元アドレスを追加",
    (None, "DNS check history"): "DNS チェックの履歴",
    (None, "Problem"): "問題",
    (None, "Changed since the previous check"): "前回のチェックからの変化",
    (None, "Remove domain"): "ドメインを削除",
    (None, "ACS resources"): "ACS リソース",
    (
        None,
        "Your Azure Communication Services resources have not been set up yet.",
    ): "Azure Communication Services のリソースはまだセットアップされていません。",
    (
        None,
        "Also create an Azure-managed domain (for quick tests; 5/min, 10/h)",
    ): "Azure マネージドドメインも作成する（簡易テスト用。5 通/分、10 通/時）",
    (None, "Set up ACS resources"): "ACS リソースをセットアップ",
    (None, "%(done)s of 4 steps done"): "4 ステップ中 %(done)s ステップ完了",
    (None, "Last error"): "直近のエラー",
    (None, "Retry"): "再試行",
    (None, "Communication Service"): "Communication Service",
    (None, "Email Communication Service"): "Email Communication Service",
    (None, "Resource group"): "リソースグループ",
    (None, "Quota"): "送信上限",
    (None, "%(m)s per minute, %(h)s per hour"): "%(m)s 通/分、%(h)s 通/時",
    (None, "Sending domains"): "送信ドメイン",
    (None, "Domain"): "ドメイン",
    (None, "DNS"): "DNS",
    (None, "No domains yet."): "ドメインはまだありません。",
    (None, "Add domain"): "ドメインを追加",
    (None, "%(n)s SMTP credential"): "SMTP 認証情報 %(n)s 件",
    (
        None,
        "ACS does not deliver to these addresses from this domain.",
    ): "このドメインからこれらのアドレスへは、ACS がメールを配信しません。",
    (None, "Add an address"): "アドレスを追加",
    (None, "Add"): "追加",
    (None, "Import CSV"): "CSV インポート",
    (
        None,
        "UTF-8 or Shift_JIS (Excel). Nothing is imported until you confirm.",
    ): "UTF-8 または Shift_JIS（Excel）に対応しています。確定するまで取り込みは行われません。",
    (None, "Check file"): "ファイルを確認",
    (None, "Import preview"): "インポートのプレビュー",
    (
        None,
        "Read as %(enc)s: %(total)s rows, %(new)s new addresses, %(dup)s duplicates, %(present)s already on the list, %(bad)s invalid.",
    ): "%(enc)s として読み込みました: 全 %(total)s 行、新規アドレス %(new)s 件、重複 %(dup)s 件、登録済み %(present)s 件、無効 %(bad)s 件。",
    (None, "Line"): "行",
    (
        None,
        "Import the %(n)s valid address and skip the invalid rows",
    ): "有効な %(n)s 件のアドレスを取り込む（無効な行はスキップ）",
    (None, "Import %(n)s address"): "%(n)s 件のアドレスを取り込む",
    (None, "Export CSV (UTF-8)"): "CSV エクスポート（UTF-8）",
    (
        None,
        "Export CSV (Shift_JIS for Excel)",
    ): "CSV エクスポート（Excel 用 Shift_JIS）",
    (None, "Added"): "追加日時",
    (None, "The list is empty."): "登録されているアドレスはありません。",
    # --- Alerts (tenants/models.py) ---
    (None, "Info"): "情報",
    (None, "Warning"): "警告",
    (None, "Critical"): "重大",
    (None, "Open"): "未対応",
    (None, "Acknowledged"): "確認済み",
    (None, "Resolved"): "解決済み",
    # --- MSP staff: tenant mail (mailops/staff_views.py) ---
    (None, "Subscription"): "サブスクリプション",
    (None, "Per minute"): "1 分あたりの上限（通）",
    (None, "Per hour"): "1 時間あたりの上限（通）",
    (None, "attempts"): "試行回数",
    (None, "Not set up yet."): "まだセットアップされていません。",
    (
        None,
        "Leave subscription and resource group empty to use the MSP's defaults.",
    ): "サブスクリプションとリソースグループを空欄にすると、MSP の既定値が使われます。",
    (None, "Provisioning was queued."): "ACS リソースのセットアップを受け付けました。",
    (None, "Record quota"): "送信上限を記録",
    (None, "Check the quota values."): "送信上限の値を確認してください。",
    (None, "The quota tier was recorded."): "送信上限の区分を記録しました。",
    # Support console (staff overview, alerts queue, tenant detail).
    (None, "Alerts queue"): "アラート対応キュー",
    (
        None,
        "Alerts from every tenant. One alert per cause: a flow that sees the same cause again refreshes the open alert.",
    ): "全テナントのアラートです。アラートは原因ごとに 1 件で、同じ原因が再び検出されると未解決のアラートが更新されます。",
    (None, "Open or acknowledged"): "未対応または確認済み",
    (None, "Tenant identifier"): "テナント識別子",
    (None, "Assigned"): "担当",
    (None, "Anyone"): "すべて",
    (None, "Me"): "自分",
    (None, "Nobody"): "担当者なし",
    (None, "Tenant"): "テナント",
    (None, "Assigned to"): "担当者",
    (None, "last seen"): "最終検出",
    (None, "Assign to"): "担当者",
    (None, "Assign"): "割り当て",
    ("alert note", "Note"): "メモ",
    (None, "Resolution note (optional)"): "解決メモ（任意）",
    (None, "Resolve"): "解決済みにする",
    (None, "Add a note"): "メモを追加",
    (None, "Add note"): "メモを追加",
    (None, "No alerts match."): "該当するアラートはありません。",
    (None, "Health summary"): "稼働状況の概要",
    (
        None,
        "%(total)s (%(verified)s verified, %(broken)s with broken DNS)",
    ): "%(total)s 件（検証済み %(verified)s 件、DNS 異常 %(broken)s 件）",
    (
        None,
        "%(active)s active; expiring within 60 days: %(d60)s, 30 days: %(d30)s, 7 days: %(d7)s; expired: %(expired)s",
    ): "有効 %(active)s 件／期限まで 60 日以内 %(d60)s 件・30 日以内 %(d30)s 件・7 日以内 %(d7)s 件／期限切れ %(expired)s 件",
    (None, "Volume (recipients)"): "送信数（宛先数）",
    (
        None,
        "%(day)s in 24 hours, %(week)s in 7 days",
    ): "24 時間 %(day)s 件、7 日間 %(week)s 件",
    (None, "Bounce rate (7 days)"): "不達率（7 日間）",
    (
        None,
        "peak %(pm)s of %(lm)s per minute, %(ph)s of %(lh)s per hour (7 days)",
    ): "ピーク 毎分 %(pm)s / %(lm)s 通、毎時 %(ph)s / %(lh)s 通（7 日間）",
    (None, "ACS provisioning"): "ACS の準備状況",
    (None, "Projected charge this month"): "今月の請求見込み",
    (None, "Refreshed"): "更新日時",
    (
        None,
        "No summary yet (refreshed every 5 minutes).",
    ): "概要はまだありません（5 分ごとに更新されます）。",
    (None, "None"): "なし",
    (None, "All alerts of this tenant"): "このテナントのすべてのアラート",
    (None, "Timeline: provisioning and alerts"): "タイムライン（準備作業とアラート）",
    (None, "Credentials expiring"): "認証情報の期限",
    (None, "Any"): "すべて",
    (None, "Has open alerts"): "未解決のアラートあり",
    (None, "DNS broken"): "DNS 異常あり",
    (None, "Domains (verified / DNS broken)"): "ドメイン（検証済み / DNS 異常）",
    (
        None,
        "Credentials expiring 60 / 30 / 7 d, expired",
    ): "認証情報 期限まで 60 / 30 / 7 日、期限切れ",
    (None, "24 h"): "24 時間",
    (None, "7 days"): "7 日間",
    (None, "Bounce rate"): "不達率",
    (None, "Quota: peak / limit"): "送信上限: ピーク / 上限",
    (None, "Projected charge"): "請求見込み",
    (None, "ACS"): "ACS",
    (None, "per min"): "毎分",
    (None, "per h"): "毎時",
    (
        None,
        "Fallback list price and rate: no price book or FX rate entered",
    ): "暫定の定価と為替レートで計算（価格表または為替レートが未登録）",
    (None, "est."): "概算",
    (
        None,
        "Page %(n)s of %(total)s (%(tenant_count)s tenants)",
    ): "%(n)s / %(total)s ページ（%(tenant_count)s テナント）",
    (None, "This alert is already resolved."): "このアラートは解決済みです。",
    (
        None,
        "Alerts can only be assigned to staff.",
    ): "アラートはスタッフにのみ割り当てられます。",
    (None, "Enter a note."): "メモを入力してください。",
    (None, "Price book and contract FX"): "価格表と契約の為替レート",
    (None, "Fallback list price and rate"): "暫定の定価と為替レート",
    (None, "Not computed"): "未計算",
    (None, "tenant summary"): "テナント概要",
    (None, "tenant summaries"): "テナント概要",
    (None, "Tenant created"): "テナントを作成",
    (None, "Alert opened: %(title)s"): "アラート発生: %(title)s",
    (None, "Alert resolved: %(title)s"): "アラート解決: %(title)s",
    (None, "Choose a staff user."): "スタッフを選択してください。",
    (None, "The alert was assigned."): "アラートの担当者を設定しました。",
    (None, "The alert was acknowledged."): "アラートを確認済みにしました。",
    (None, "The alert was resolved."): "アラートを解決済みにしました。",
    (None, "The note was added."): "メモを追加しました。",
    # Recipient domains, alert thresholds (analytics settings)
    ("recipient domain", "Other"): "その他",
    (None, "bounce rate alert (%)"): "不達率のアラート基準（%）",
    (
        None,
        "failure spike (× the 7-day hourly average)",
    ): "送信失敗の急増（過去 7 日間の 1 時間平均の何倍か）",
    (None, "silent device after (hours)"): "送信が途絶えた機器の検知（時間）",
    (None, "rate-limit warning (%)"): "送信上限の警告（%）",
    (
        None,
        "message without final status after (minutes)",
    ): "配信結果が確定しないメッセージの検知（分）",
    (None, "email alerts"): "メールでのアラート通知",
    # Support access (customer side)
    (None, "Support access"): "サポートアクセス",
    (
        None,
        "Let your service provider's support staff open this portal for a limited time. Every page they view and every change they make is recorded below. You can revoke access at any time.",
    ): "サービス提供元のサポート担当者に、期間を限ってこのポータルへのアクセスを許可します。担当者が閲覧したページと行った変更はすべて下に記録されます。アクセスはいつでも取り消せます。",
    (None, "Grant access"): "アクセスを許可",
    (None, "Grants"): "許可の一覧",
    (None, "Ticket"): "チケット",
    (None, "Access"): "アクセス範囲",
    (None, "Granted by"): "許可した人",
    (None, "Until"): "期限",
    (
        None,
        "No support access has been granted.",
    ): "サポートアクセスは許可されていません。",
    (None, "What support staff did"): "サポート担当者の操作",
    (None, "Support access ended"): "サポートアクセスの終了",
    (None, "Support access is not available"): "サポートアクセスは利用できません",
    (
        None,
        "The customer's grant has expired or was revoked. You have been signed out.",
    ): "お客様によるアクセス許可が期限切れになったか、取り消されました。サインアウトしました。",
    (None, "Read-only support access"): "閲覧のみのサポートアクセス",
    (
        None,
        "The customer granted read-only access. This change was not made and the attempt was recorded.",
    ): "お客様が許可したのは閲覧のみです。この変更は行われず、操作の試みは記録されました。",
    (
        None,
        "You are viewing this portal as support staff. Everything you do is recorded.",
    ): "サポート担当者としてこのポータルを表示しています。すべての操作が記録されます。",
    (None, "Read only"): "閲覧のみ",
    (None, "Read and write"): "閲覧と変更",
    (None, "scope"): "アクセス範囲",
    (None, "ticket reference"): "チケット番号",
    (None, "Hours"): "期間（時間）",
    (None, "Ticket reference"): "チケット番号",
    (
        None,
        "Only an owner can grant support access.",
    ): "サポートアクセスを許可できるのはオーナーのみです。",
    (
        None,
        "Choose read only or read and write.",
    ): "「閲覧のみ」または「閲覧と変更」を選択してください。",
    (
        None,
        "Choose between 1 and %(max)d hours.",
    ): "1〜%(max)d 時間の範囲で指定してください。",
    (None, "Enter the ticket reference."): "チケット番号を入力してください。",
    (
        None,
        "Only an owner can revoke support access.",
    ): "サポートアクセスを取り消せるのはオーナーのみです。",
    (
        None,
        "This support link is invalid or has expired.",
    ): "このサポート用リンクは無効か、有効期限が切れています。",
    (
        None,
        "This support link is for another tenant.",
    ): "このサポート用リンクは別のテナント用です。",
    (
        None,
        "Support staff must use two-factor authentication.",
    ): "サポート担当者は二要素認証を使用する必要があります。",
    (
        None,
        "The customer has not granted support access.",
    ): "お客様がサポートアクセスを許可していません。",
    (None, "Support access was granted."): "サポートアクセスを許可しました。",
    (
        None,
        "Support access was revoked. Staff are signed out.",
    ): "サポートアクセスを取り消しました。担当者はサインアウトされます。",
    # Support access (MSP console side)
    (None, "revoked"): "取り消し済み",
    (None, "expired"): "期限切れ",
    (
        None,
        "The customer has not granted support access. Without it you see only this summary.",
    ): "お客様がサポートアクセスを許可していません。許可がない間は、この概要のみ表示できます。",
    (None, "Open the portal as support"): "サポートとしてポータルを開く",
    # MSP staff management
    (None, "Staff"): "スタッフ",
    (None, "Last sign-in"): "最終サインイン",
    (None, "Deactivated"): "無効",
    (None, "Enrolled"): "設定済み",
    (None, "Not enrolled"): "未設定",
    (None, "Deactivate"): "無効化",
    (None, "Invite a staff member"): "スタッフを招待",
    (
        None,
        "Staff must enrol two-factor authentication before they can use the console.",
    ): "スタッフが管理コンソールを使用するには、二要素認証の設定が必要です。",
    (None, "staff role"): "スタッフのロール",
    (
        None,
        "Administrator (everything, incl. staff)",
    ): "管理者（スタッフ管理を含むすべての操作）",
    (None, "Support"): "サポート",
    ("staff role", "Billing"): "請求担当",
    (
        None,
        "Only staff administrators can manage staff.",
    ): "スタッフを管理できるのはスタッフの管理者のみです。",
    (
        None,
        "The last staff administrator cannot be changed.",
    ): "最後のスタッフ管理者は変更できません。",
    (None, "You cannot deactivate yourself."): "自分自身を無効化することはできません。",
    (
        None,
        "%(email)s can no longer sign in.",
    ): "%(email)s はサインインできなくなりました。",
    # Public home
    (None, "Estimate your monthly cost"): "月額費用の見積もり",
    (None, "Exchange Online → ACS assessment"): "Exchange Online → ACS 移行診断",
}


def _all_copy() -> dict[tuple[str | None, str], str]:
    """JA plus the areas kept in their own modules (later modules win)."""
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    merged = dict(JA)
    for module, name in (
        ("ja_billing_core", "JA_BILLING_CORE"),
        ("ja_billing_docs", "JA_BILLING_DOCS"),
        ("ja_analytics_ui", "JA_ANALYTICS_UI"),
        ("ja_analytics_ingest", "JA_ANALYTICS_INGEST"),
        ("ja_campaigns_engine", "JA_CAMPAIGNS_ENGINE"),
        ("ja_campaigns_ui", "JA_CAMPAIGNS_UI"),
        ("ja_console_caps", "JA_CONSOLE_CAPS"),
        ("ja_console_wizard", "JA_CONSOLE_WIZARD"),
    ):
        try:
            merged.update(getattr(importlib.import_module(module), name))
        except ModuleNotFoundError:
            continue
    return merged


def apply(path: str = "locale/ja/LC_MESSAGES/django.po") -> list[str]:
    """Fill the catalog from JA; return the msgids still missing a translation.

    Plural entries (``ngettext`` / ``{% blocktranslate count %}``) are keyed by
    their singular msgid; Japanese has one plural form, so the value goes to
    ``msgstr[0]``. An entry left fuzzy by makemessages counts as missing: its
    msgstr is only msgmerge's guess from a similar msgid.
    """
    import polib

    copy = _all_copy()
    po = polib.pofile(path)
    missing = []
    for entry in po:
        if entry.obsolete:
            continue
        key = (entry.msgctxt, entry.msgid)
        if key in copy:
            if entry.msgid_plural:
                entry.msgstr_plural = {0: copy[key]}
            else:
                entry.msgstr = copy[key]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            entry.previous_msgctxt = None
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
        elif "fuzzy" in entry.flags or not (
            entry.msgstr_plural and all(entry.msgstr_plural.values())
            if entry.msgid_plural
            else entry.msgstr
        ):
            missing.append(entry.msgid)
    po.metadata["Language"] = "ja"
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.save(path)
    return missing


if __name__ == "__main__":
    for msgid in apply():
        print("MISSING:", msgid)  # noqa: T201
