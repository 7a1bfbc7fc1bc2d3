// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice The structs of Permit2's signature-transfer interface, as the x402 upto proxy ABI names them.
interface ISignatureTransfer {
    struct TokenPermissions {
        address token;
        uint256 amount;
    }

    struct PermitTransferFrom {
        TokenPermissions permitted;
        uint256 nonce;
        uint256 deadline;
    }

    struct SignatureTransferDetails {
        address to;
        uint256 requestedAmount;
    }

    function permitWitnessTransferFrom(
        PermitTransferFrom calldata permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external;
}

/**
 * @title LocalPermit2
 * @notice The part of Permit2's signature transfer that the x402 `upto` scheme uses, for the LOCAL
 * test chain: `permitWitnessTransferFrom` (one token, a witness struct), the unordered nonce
 * bitmap and the EIP-712 domain. Written from the public interface and typed data; no allowance
 * transfers, batches or nonce invalidation.
 *
 * The owner allows this contract once with a plain ERC-20 `approve`; afterwards each payment is a
 * signature only. A signature names the spender (the contract that calls this one), the token, a
 * maximum amount, a nonce, a deadline and a witness (data the spender defines and checks, e.g. the
 * payee). The spender may transfer any amount up to the maximum to the destination it passes, once.
 *
 * The local chain installs the runtime code at Permit2's canonical address
 * 0x000000000022D473030F116dDEE9F6B43aC78BA3 with `hardhat_setCode`: no constructor, no
 * immutables, the domain separator is computed from `block.chainid` and `address(this)` on each
 * call, so the code works at any address.
 */
contract LocalPermit2 is ISignatureTransfer {
    using SafeERC20 for IERC20;

    /// @dev Permit2's domain has a name but no version.
    bytes32 private constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("Permit2");
    bytes32 public constant TOKEN_PERMISSIONS_TYPEHASH = keccak256("TokenPermissions(address token,uint256 amount)");
    /// @dev The witness type string completes this stub: "<Witness> witness)" + referenced types in alphabetical order.
    string public constant PERMIT_WITNESS_TRANSFER_FROM_TYPEHASH_STUB =
        "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,";

    /// @notice owner => word position (nonce >> 8) => bitmap of used nonces (bit = nonce & 0xff).
    mapping(address => mapping(uint256 => uint256)) public nonceBitmap;

    error SignatureExpired(uint256 signatureDeadline);
    error InvalidAmount(uint256 maxAmount);
    error InvalidNonce();
    error InvalidSigner();

    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, block.chainid, address(this)));
    }

    /**
     * @notice Transfers `transferDetails.requestedAmount` (at most `permit.permitted.amount`) of the
     * permitted token from `owner` to `transferDetails.to`, when `owner` signed `permit` with
     * msg.sender as spender and `witness` as the hash of the witness struct of type `witnessTypeString`.
     * Consumes the nonce, so one signature pays at most once, whatever the amount.
     */
    function permitWitnessTransferFrom(
        PermitTransferFrom calldata permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external {
        if (block.timestamp > permit.deadline) revert SignatureExpired(permit.deadline);
        if (transferDetails.requestedAmount > permit.permitted.amount) revert InvalidAmount(permit.permitted.amount);
        _useUnorderedNonce(owner, permit.nonce);

        bytes32 typeHash = keccak256(abi.encodePacked(PERMIT_WITNESS_TRANSFER_FROM_TYPEHASH_STUB, witnessTypeString));
        bytes32 tokenPermissionsHash =
            keccak256(abi.encode(TOKEN_PERMISSIONS_TYPEHASH, permit.permitted.token, permit.permitted.amount));
        bytes32 structHash =
            keccak256(abi.encode(typeHash, tokenPermissionsHash, msg.sender, permit.nonce, permit.deadline, witness));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash));
        // An EOA's ECDSA signature, or ERC-1271 when the owner is a contract (smart wallet).
        if (!SignatureChecker.isValidSignatureNow(owner, digest, signature)) revert InvalidSigner();

        IERC20(permit.permitted.token).safeTransferFrom(owner, transferDetails.to, transferDetails.requestedAmount);
    }

    /// @dev Sets the nonce's bit; reverts when it was already set (used).
    function _useUnorderedNonce(address owner, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 flipped = nonceBitmap[owner][nonce >> 8] ^= bit;
        if (flipped & bit == 0) revert InvalidNonce();
    }
}
